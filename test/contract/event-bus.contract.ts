import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BusMessage, EventBus } from '../../src/streaming/event-bus.js';

/** Wait until `predicate` holds, polling the event loop (no fixed sleeps). Fails after `timeoutMs`. */
async function eventually(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * The contract every EventBus implementation passes: pattern matching, order per topic, unsubscribe,
 * and isolation of a failing handler. `open` gives a fresh bus; `second`, when given, a bus on the same
 * transport in another "replica" (for NATS), so fan-out across replicas is tested too.
 */
export function eventBusContract(name: string, open: () => Promise<EventBus>, second?: () => Promise<EventBus>): void {
  describe(`event bus contract: ${name}`, () => {
    let bus: EventBus;
    const extra: EventBus[] = [];
    const prefix = `t${Math.random().toString(36).slice(2, 8)}`;

    beforeEach(async () => {
      bus = await open();
    });
    afterEach(async () => {
      await bus.close();
      for (const other of extra.splice(0)) await other.close();
    });

    it('delivers to exact, single-token and tail wildcard patterns, not to others', async () => {
      const seen: Record<string, string[]> = { exact: [], star: [], tail: [], other: [] };
      bus.subscribe(`${prefix}.workflow.w1.instance.i1`, (message) => seen.exact?.push(message.topic));
      bus.subscribe(`${prefix}.workflow.w1.instance.*`, (message) => seen.star?.push(message.topic));
      bus.subscribe(`${prefix}.workflow.>`, (message) => seen.tail?.push(message.topic));
      bus.subscribe(`${prefix}.costs`, (message) => seen.other?.push(message.topic));
      await bus.publish(`${prefix}.workflow.w1.instance.i1`, { n: 1 });
      await bus.publish(`${prefix}.workflow.w1.instance.i2`, { n: 2 });
      await bus.publish(`${prefix}.workflow.w2.instance.i3`, { n: 3 });
      await eventually(() => seen.tail?.length === 3);
      expect(seen.exact).toEqual([`${prefix}.workflow.w1.instance.i1`]);
      expect(seen.star).toEqual([`${prefix}.workflow.w1.instance.i1`, `${prefix}.workflow.w1.instance.i2`]);
      expect(seen.other).toEqual([]);
    });

    it('keeps publish order per topic and carries the payload and a publish time', async () => {
      const received: BusMessage<{ n: number }>[] = [];
      bus.subscribe<{ n: number }>(`${prefix}.order`, (message) => received.push(message));
      for (let n = 0; n < 50; n++) await bus.publish(`${prefix}.order`, { n });
      await eventually(() => received.length === 50);
      expect(received.map((message) => message.payload.n)).toEqual([...Array(50).keys()]);
      expect(received[0]?.publishedAt).toBeGreaterThan(0);
    });

    it('stops delivering after unsubscribe, and a throwing handler does not stop the others', async () => {
      const kept: number[] = [];
      const dropped: number[] = [];
      bus.subscribe(`${prefix}.iso`, () => {
        throw new Error('subscriber bug');
      });
      bus.subscribe<{ n: number }>(`${prefix}.iso`, (message) => kept.push(message.payload.n));
      const subscription = bus.subscribe<{ n: number }>(`${prefix}.iso`, (message) => dropped.push(message.payload.n));
      await bus.publish(`${prefix}.iso`, { n: 1 });
      await eventually(() => kept.length === 1 && dropped.length === 1);
      subscription.unsubscribe();
      subscription.unsubscribe();
      await bus.publish(`${prefix}.iso`, { n: 2 });
      await eventually(() => kept.length === 2);
      expect(dropped).toEqual([1]);
    });

    if (second)
      it('fans out to a subscriber on another replica', async () => {
        const other = await second();
        extra.push(other);
        const received: unknown[] = [];
        other.subscribe(`${prefix}.fanout`, (message) => received.push(message.payload));
        await eventually(() => true);
        // A subscription on another connection becomes active asynchronously: publish until it is seen.
        let n = 0;
        await eventually(() => {
          void bus.publish(`${prefix}.fanout`, { n: n++ });
          return received.length > 0;
        }, 5000);
        expect(received[0]).toMatchObject({ n: expect.any(Number) });
      });
  });
}
