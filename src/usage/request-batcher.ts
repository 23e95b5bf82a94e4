interface Batch {
  waiting: { resolve: () => void; reject: (error: unknown) => void; signal: AbortSignal; onAbort: () => void }[];
  timer: NodeJS.Timeout;
}

/**
 * `batch_with_delay(5_seconds, max_batch_size=10)`: requests a cost rule matches wait and are released
 * together — when `maxBatchSize` of them are waiting, or `delayMs` after the first arrived, whichever
 * comes first — so small requests reach the provider in bursts that share connections and rate-limit
 * windows instead of one by one. A client that leaves while waiting is dropped from its batch.
 */
export class RequestBatcher {
  private readonly batches = new Map<string, Batch>();

  wait(rule: string, delayMs: number, maxBatchSize: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<void>((resolve, reject) => {
      let batch = this.batches.get(rule);
      if (!batch) {
        const created: Batch = { waiting: [], timer: setTimeout(() => this.release(rule, created), delayMs) };
        batch = created;
        this.batches.set(rule, batch);
      }
      const current = batch;
      const entry = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          current.waiting = current.waiting.filter((waiting) => waiting !== entry);
          reject(signal.reason as Error);
        },
      };
      signal.addEventListener('abort', entry.onAbort, { once: true });
      current.waiting.push(entry);
      if (current.waiting.length >= maxBatchSize) this.release(rule, current);
    });
  }

  private release(rule: string, batch: Batch): void {
    clearTimeout(batch.timer);
    if (this.batches.get(rule) === batch) this.batches.delete(rule);
    for (const entry of batch.waiting) {
      entry.signal.removeEventListener('abort', entry.onAbort);
      entry.resolve();
    }
    batch.waiting = [];
  }
}
