import { EventEmitter } from 'node:events';

type AbortListener = (event: { type: 'abort'; target: unknown }) => void;

/** The signal half: an EventEmitter that answers the part of `AbortSignal` the request path uses. */
class RequestSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  onabort: AbortListener | null = null;

  constructor() {
    super();
    // Attempts, backoff sleeps and batch waits each listen for a moment; a request has a handful at most.
    this.setMaxListeners(50);
  }

  /** Function listeners only (what this code base and undici pass; no `handleEvent` objects). */
  addEventListener(type: string, listener: AbortListener | null, options?: boolean | { once?: boolean }): void {
    if (type !== 'abort' || typeof listener !== 'function') return;
    if (typeof options === 'object' && options.once === true) this.once('abort', listener);
    else this.on('abort', listener);
  }

  removeEventListener(type: string, listener: AbortListener | null): void {
    if (type === 'abort' && typeof listener === 'function') this.off('abort', listener);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  fire(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const event = { type: 'abort' as const, target: this };
    // Like an EventTarget: a listener that throws neither stops the others nor reaches the caller of abort().
    for (const listener of [...(this.onabort ? [this.onabort] : []), ...(this.rawListeners('abort') as AbortListener[])]) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`an abort listener threw: ${String(error)}`);
      }
    }
    this.removeAllListeners('abort');
  }
}

/**
 * The cancellation of one HTTP request: `abort(reason)` and a `signal` with what the request path reads —
 * `aborted`, `reason`, `throwIfAborted()` and `addEventListener`/`removeEventListener('abort', …)`, which
 * is also what undici's `signal` option and Node's `addAbortListener` call. Node's `AbortController` is an
 * EventTarget, and building one and having undici listen to it cost 15–20 µs of every request's CPU in
 * the gateway's profile (bench/README.md); this is an EventEmitter. Only for the request path: code that
 * hands a signal to `AbortSignal.any`, `AbortSignal.timeout` companions or `fetch` needs a real
 * `AbortController`.
 */
export class RequestAbort {
  private readonly source = new RequestSignal();
  /** Typed as `AbortSignal` for the layers below, which use only the members listed above. */
  readonly signal: AbortSignal = this.source as unknown as AbortSignal;

  /** Aborts once; the reason defaults to an `AbortError` like `AbortController.abort()`'s. */
  abort(reason?: unknown): void {
    this.source.fire(reason ?? new DOMException('This operation was aborted', 'AbortError'));
  }
}

/** Anything that can be aborted with a reason: an `AbortController` or a `RequestAbort`. */
export interface Abortable {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}
