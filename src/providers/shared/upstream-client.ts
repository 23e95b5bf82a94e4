import type { Agent, Dispatcher } from 'undici';
import type * as UndiciModule from 'undici';
import { ErrorCode, ProviderError } from '../../core/errors.js';

/** Timeouts of upstream calls, in milliseconds. */
export interface UpstreamTimeouts {
  /** TCP + TLS connect. Default 10 s. */
  connectMs: number;
  /** From request sent to response headers. Default 300 s (slow models think before answering). */
  headersMs: number;
  /** Longest silence between two body chunks (the stream idle timeout). Default 120 s. */
  idleMs: number;
}

/** Socket-level failures: the upstream went away, not a bug of ours. */
const transportCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** Upstream connections per origin: well above any concurrency one gateway process serves (1,000 open streams). */
export const maxConnectionsPerOrigin = 4096;

export const defaultTimeouts: UpstreamTimeouts = { connectMs: 10_000, headersMs: 300_000, idleMs: 120_000 };

export interface UpstreamRequest {
  url: string;
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/** What the client uses of undici: the pool, `request` and the error classes. */
interface Undici {
  Agent: typeof Agent;
  request: (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
  errors: typeof UndiciModule.errors;
}
/** undici (~20 MB resident) loads with the first upstream call, not at start-up; only the modules named here. */
let undici: Undici | undefined;
let loading: Promise<Undici> | undefined;
async function loadUndici(): Promise<Undici> {
  if (undici) return undici;
  // A bundle (esbuild) may hand a CommonJS module over as the namespace's `default`, as Node itself does.
  loading ??= Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/api/api-request.js'),
    import('undici/lib/core/errors.js'),
  ]).then(([agent, request, errors]) => (undici = { Agent: agent.default, request: request.default, errors: errors.default }));
  return loading;
}

/** `origin` and `path` of a URL, as undici's dispatchers take them (parsed once per URL). */
const targets = new Map<string, { origin: string; path: string }>();
function targetOf(url: string): { origin: string; path: string } {
  let target = targets.get(url);
  if (!target) {
    const parsed = new URL(url);
    target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    // URLs are per provider and operation (plus Azure's per-deployment paths): a handful, bounded anyway.
    if (targets.size >= 1_000) targets.clear();
    targets.set(url, target);
  }
  return target;
}

/**
 * One keep-alive connection pool per provider, and the translation of transport failures (refused,
 * reset, timed out) into retryable `ProviderError`s. Adapters own one each.
 */
export class UpstreamClient {
  private agent: Agent | undefined;

  constructor(
    readonly provider: string,
    private readonly timeouts: UpstreamTimeouts = defaultTimeouts,
  ) {}

  private agentOf(library: Undici): Agent {
    const { timeouts } = this;
    this.agent ??= new library.Agent({
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.idleMs,
      keepAliveTimeout: 30_000,
      // Sized for the load: every request in flight holds its connection for the whole answer (a stream can
      // last minutes), so a small cap would queue streams behind each other instead of running them at once.
      connections: maxConnectionsPerOrigin,
      pipelining: 1,
    });
    return this.agent;
  }

  async send(upstream: UpstreamRequest): Promise<UpstreamResponse> {
    try {
      const library = undici ?? (await loadUndici());
      const { origin, path } = targetOf(upstream.url);
      const response = await library.request.call(this.agentOf(library), {
        origin,
        path,
        method: upstream.method ?? 'POST',
        headers: upstream.headers,
        body: upstream.body ?? null,
        signal: upstream.signal,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw this.transportError(error, upstream.signal);
    }
  }

  /** Maps an error thrown while connecting, waiting or reading into a `ProviderError`. */
  transportError(error: unknown, signal?: AbortSignal): ProviderError | unknown {
    if (error instanceof ProviderError) return error;
    if (signal?.aborted) return signal.reason ?? error;
    // undici is loaded once a call was sent; an error before that has no undici class.
    const undiciErrors = undici?.errors;
    const provider = this.provider;
    const code = (error as { code?: string } | null)?.code ?? '';
    if (undiciErrors && (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError)) {
      const what = error instanceof undiciErrors.HeadersTimeoutError ? 'answer' : 'send anything more';
      return new ProviderError(ErrorCode.upstreamTimeout, `Provider '${provider}' did not ${what} in time.`, {
        status: 504,
        provider,
        isRetryable: true,
        cause: error,
      });
    }
    if ((undiciErrors && error instanceof undiciErrors.ConnectTimeoutError) || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new ProviderError(ErrorCode.upstreamTimeout, `Connecting to provider '${provider}' timed out.`, {
        status: 504,
        provider,
        isRetryable: true,
        cause: error,
      });
    }
    if (!(undiciErrors && error instanceof undiciErrors.UndiciError) && !transportCodes.has(code)) return error;
    const detail = code === 'ECONNREFUSED' ? 'refused the connection' : 'closed the connection unexpectedly';
    return new ProviderError(ErrorCode.upstreamUnavailable, `Provider '${provider}' ${detail}.`, {
      status: 502,
      provider,
      isRetryable: true,
      cause: error,
    });
  }

  close(): Promise<void> {
    return this.agent?.close() ?? Promise.resolve();
  }
}

/**
 * Reads a response body as text, keeping the first `limit` bytes (the rest is read and dropped); `truncated`
 * says whether anything was dropped. Plain `data` events: an async iterator over the body costs more per
 * read (bench/README.md).
 */
export function readText(body: UpstreamResponse['body'], limit: number): Promise<{ text: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    body.on('data', (chunk: Buffer) => {
      if (size >= limit) {
        truncated = true;
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    body.once('end', () => {
      const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      resolve({ text: bytes.toString('utf8', 0, Math.min(bytes.length, limit)), truncated: truncated || size > limit });
    });
    body.once('error', reject);
  });
}
