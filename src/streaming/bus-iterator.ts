import type { BusMessage, BusSubscription, EventBus } from './event-bus.js';

export interface BusIteratorOptions<T> {
  /** Messages that fail it are skipped (e.g. another key's cost events). */
  filter?: (payload: T) => boolean;
  /** The iterator ends after yielding a payload for which this is true (a stream's last event). */
  until?: (payload: T) => boolean;
  /** At most this many undelivered payloads are held; past it the iterator fails with `overflow()` (default 1000). */
  maxQueued?: number;
  /** The error thrown when the consumer falls `maxQueued` behind. */
  overflow?: () => Error;
  /** Called once the bus subscription is in place (so a publisher may be told it has a listener). */
  onSubscribed?: () => void;
}

/**
 * A bus subscription as an async iterator (what GraphQL subscriptions consume). Payloads are queued
 * between the bus and the consumer, boundedly: a consumer that falls too far behind gets an error
 * rather than a queue that grows without limit. `return()` (the client left) unsubscribes.
 */
export function busIterator<T>(bus: EventBus, pattern: string, options: BusIteratorOptions<T> = {}): AsyncIterableIterator<T> {
  const maxQueued = options.maxQueued ?? 1000;
  const queue: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let failWaiting: ((error: unknown) => void) | undefined;
  let failure: Error | undefined;
  let done = false;
  let ending = false;

  const finish = (): void => {
    done = true;
    subscription.unsubscribe();
  };
  const subscription: BusSubscription = bus.subscribe<T>(pattern, (message: BusMessage<T>) => {
    if (done || ending) return;
    const payload = message.payload;
    if (options.filter && !options.filter(payload)) return;
    if (options.until?.(payload)) ending = true;
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      failWaiting = undefined;
      resolve({ value: payload, done: false });
      if (ending) subscription.unsubscribe();
      return;
    }
    if (queue.length >= maxQueued) {
      failure = options.overflow?.() ?? new Error(`the subscriber fell more than ${maxQueued} events behind`);
      finish();
      return;
    }
    queue.push(payload);
    if (ending) subscription.unsubscribe();
  });
  options.onSubscribed?.();

  const iterator: AsyncIterableIterator<T> = {
    next(): Promise<IteratorResult<T>> {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift() as T, done: false });
      if (failure) {
        const error = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (done || ending) {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => {
        waiting = resolve;
        failWaiting = reject;
      });
    },
    return(): Promise<IteratorResult<T>> {
      finish();
      queue.length = 0;
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error: unknown): Promise<IteratorResult<T>> {
      finish();
      failWaiting?.(error);
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
