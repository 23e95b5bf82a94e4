type AbortListener = (event: { type: 'abort'; target: unknown }) => void;

/**
 * The signal half: the part of `AbortSignal` the request path uses, over a plain array of listeners
 * (no EventTarget, not even an EventEmitter: a request adds one or two listeners and removes them).
 */
class RequestSignal {
  aborted = false;
  reason: unknown = undefined;
  onabort: AbortListener | null = null;
  private listeners: AbortListener[] | undefined;

  /**
   * Function listeners only (what this code base, Node's `addAbortListener` and undici pass; no
   * `handleEvent` objects). `once` needs no handling: the signal fires at most once, and then lets go of all.
   */
  addEventListener(type: string, listener: AbortListener | null, _options?: boolean | { once?: boolean }): void {
    if (type !== 'abort' || typeof listener !== 'function') return;
    // Like an EventTarget: the same listener twice is one listener.
    if (this.listeners?.includes(listener)) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(type: string, listener: AbortListener | null): void {
    if (type !== 'abort' || !this.listeners) return;
    const at = listener === null ? -1 : this.listeners.indexOf(listener);
    if (at !== -1) this.listeners.splice(at, 1);
  }

  /** How many listeners are registered (for tests: undici lets go of its listener when a request ends). */
  get listenerCount(): number {
    return this.listeners?.length ?? 0;
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  fire(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const event = { type: 'abort' as const, target: this };
    const listeners = [...(this.onabort ? [this.onabort] : []), ...(this.listeners ?? [])];
    // Every listener runs once (an aborted signal never fires again), so none is kept.
    this.listeners = undefined;
    // Like an EventTarget: a listener that throws neither stops the others nor reaches the caller of abort().
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`an abort listener threw: ${String(error)}`);
      }
    }
  }
}

/**
 * The cancellation of one HTTP request: `abort(reason)` and a `signal` with what the request path reads —
 * `aborted`, `reason`, `throwIfAborted()` and `addEventListener`/`removeEventListener('abort', …)`, which
 * is also what undici's `signal` option and Node's `addAbortListener` call. Node's `AbortController` is an
 * EventTarget, and building one and having undici listen to it cost 15–20 µs of every request's CPU in
 * the gateway's profile (bench/README.md); this is a plain object with a listener array. Only for the request path: code that
 * hands a signal to `AbortSignal.any`, `AbortSignal.timeout` companions or `fetch` needs a real
 * `AbortController`.
 */
export class RequestAbort {
  private readonly source = new RequestSignal();
  /** Typed as `AbortSignal` for the layers below, which use only the members listed above. */
  readonly signal: AbortSignal = this.source as unknown as AbortSignal;

  /** Listeners on the signal now (undici removes its own when a request's body closes). */
  get listenerCount(): number {
    return this.source.listenerCount;
  }

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
