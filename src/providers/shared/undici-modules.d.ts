/**
 * The three undici modules the upstream client loads instead of the package's index, which also loads
 * fetch, WebSocket, EventSource, the cache and the mocks (and, through its cookie helpers, Node's own
 * copy of undici): ~35 ms of the first request's compile time (bench/README.md). Typed with the
 * package's own declarations; the lockfile pins the version these paths are checked against.
 */
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export default AgentClass;
}

declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  /** `Dispatcher.prototype.request`, called with the dispatcher as `this`. */
  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}

declare module 'undici/lib/core/errors.js' {
  import type { errors } from 'undici';
  const undiciErrors: typeof errors;
  export default undiciErrors;
}
