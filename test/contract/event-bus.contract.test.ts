import { describe, expect, it } from 'vitest';
import { topicMatches } from '../../src/streaming/event-bus.js';
import { MemoryEventBus } from '../../src/streaming/memory-event-bus.js';
import { eventBusContract } from './event-bus.contract.js';

eventBusContract('memory', () => Promise.resolve(new MemoryEventBus()));

describe('topicMatches', () => {
  it.each([
    ['a.b', 'a.b', true],
    ['a.*', 'a.b', true],
    ['a.*', 'a.b.c', false],
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['*.b', 'a.b', true],
    ['a.b.c', 'a.b', false],
  ])('%s against %s → %s', (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected);
  });
});
