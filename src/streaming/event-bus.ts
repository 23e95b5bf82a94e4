/**
 * The event bus port: how engine, completion, cost and health events reach every subscriber — in this
 * process by default, across replicas when NATS is configured. Topics are dot-separated tokens
 * (`workflow.<workflowId>.instance.<instanceId>`, `completion.<id>`, `costs`, `provider-health`);
 * a subscription pattern may use `*` for exactly one token and a final `>` for one or more, as NATS does,
 * so every implementation matches the same way.
 */
export interface BusMessage<T = unknown> {
  topic: string;
  payload: T;
  /** Epoch milliseconds at publish. */
  publishedAt: number;
}

export interface BusSubscription {
  /** Stop delivery; idempotent. */
  unsubscribe(): void;
}

export interface EventBus {
  /** Which implementation carries the events (`memory`, `nats`), for readiness and logs. */
  readonly kind: string;
  /**
   * Hand a message to every current subscriber whose pattern matches `topic`. Resolves once the bus
   * has accepted it (for NATS: the server has it); delivery to handlers is asynchronous.
   */
  publish<T>(topic: string, payload: T): Promise<void>;
  /** Call `handler` for each matching message, in publish order per topic. A throwing handler is logged, not fatal. */
  subscribe<T = unknown>(pattern: string, handler: (message: BusMessage<T>) => void): BusSubscription;
  /**
   * False when a message on `topic` would reach nobody, so a publisher may skip building it; absent (or
   * true) when the bus cannot tell — across replicas, a subscriber may be elsewhere.
   */
  listened?(topic: string): boolean;
  /** A round trip to the transport, for readiness; absent when there is nothing to reach (in-process). */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

/** Well-known topics, so publishers and subscribers agree on spelling. */
export const topics = {
  completion: (completionId: string) => `completion.${safeToken(completionId)}`,
  workflowInstance: (workflowId: string, instanceId: string) => `workflow.${safeToken(workflowId)}.instance.${safeToken(instanceId)}`,
  /** Every instance of one workflow. */
  workflowInstances: (workflowId: string) => `workflow.${safeToken(workflowId)}.instance.*`,
  /** Every instance of every workflow. */
  allWorkflows: 'workflow.*.instance.*',
  costs: 'costs',
  providerHealth: 'provider-health',
} as const;

/** One topic token: NATS subjects forbid spaces, dots and wildcards inside a token. */
export function safeToken(value: string): string {
  return value.replace(/[\s.*>]/g, '_');
}

/** Whether `topic` matches `pattern` under the NATS rules (`*` one token, trailing `>` one or more). */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === topic) return true;
  const want = pattern.split('.');
  const have = topic.split('.');
  for (let index = 0; index < want.length; index++) {
    const token = want[index];
    if (token === '>') return index === want.length - 1 && have.length > index;
    if (index >= have.length) return false;
    if (token !== '*' && token !== have[index]) return false;
  }
  return want.length === have.length;
}
