import { describe, expect, it } from 'vitest';
import { MemoryEventBus } from './memory-event-bus.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('MemoryEventBus topic cache', () => {
  it('reaches subscribers added and misses those removed after a topic was already published', async () => {
    const bus = new MemoryEventBus();
    const seen: string[] = [];
    await bus.publish('costs', 1); // remembered as reaching nobody
    expect(bus.listened('costs')).toBe(false);
    const first = bus.subscribe('costs', () => seen.push('first'));
    expect(bus.listened('costs')).toBe(true);
    await bus.publish('costs', 2);
    await tick();
    expect(seen).toEqual(['first']);
    bus.subscribe('>', () => seen.push('tail'));
    first.unsubscribe();
    await bus.publish('costs', 3);
    await tick();
    expect(seen).toEqual(['first', 'tail']);
    await bus.close();
    expect(bus.listened('costs')).toBe(false);
  });

  it('stays bounded with many one-off topics', async () => {
    const bus = new MemoryEventBus();
    const seen: number[] = [];
    bus.subscribe('completion.*', (message) => seen.push(message.payload as number));
    for (let index = 0; index < 2_500; index++) await bus.publish(`completion.c${index}`, index);
    await tick();
    expect(seen).toHaveLength(2_500);
    expect((bus as unknown as { matching: Map<string, unknown> }).matching.size).toBeLessThanOrEqual(1_000);
  });
});
