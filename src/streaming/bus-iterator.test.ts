import { describe, expect, it } from 'vitest';
import { busIterator } from './bus-iterator.js';
import { MemoryEventBus } from './memory-event-bus.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('busIterator', () => {
  it('yields matching payloads in order, skips filtered ones, and ends after the `until` payload', async () => {
    const bus = new MemoryEventBus();
    const iterator = busIterator<{ n: number }>(bus, 'costs', {
      filter: (payload) => payload.n !== 2,
      until: (payload) => payload.n === 3,
    });
    for (const n of [1, 2, 3, 4]) await bus.publish('costs', { n });
    await tick();
    const seen: number[] = [];
    for await (const payload of iterator) seen.push(payload.n);
    expect(seen).toEqual([1, 3]);
  });

  it('delivers to a consumer already waiting, and return() unsubscribes', async () => {
    const bus = new MemoryEventBus();
    let subscribed = false;
    const iterator = busIterator<string>(bus, 'completion.*', { onSubscribed: () => (subscribed = true) });
    expect(subscribed).toBe(true);
    const next = iterator.next();
    await bus.publish('completion.a', 'hello');
    expect(await next).toEqual({ value: 'hello', done: false });
    await iterator.return?.();
    await bus.publish('completion.a', 'late');
    await tick();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('fails a consumer that falls too far behind instead of queueing without bound', async () => {
    const bus = new MemoryEventBus();
    const iterator = busIterator<number>(bus, 'costs', { maxQueued: 3, overflow: () => new Error('too slow') });
    for (let n = 0; n < 10; n++) await bus.publish('costs', n);
    await tick();
    expect([(await iterator.next()).value, (await iterator.next()).value, (await iterator.next()).value]).toEqual([0, 1, 2]);
    await expect(iterator.next()).rejects.toThrow('too slow');
  });
});
