import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { topicMatches } from '../../src/streaming/event-bus.js';
import { MemoryEventBus } from '../../src/streaming/memory-event-bus.js';
import { NatsEventBus } from '../../src/streaming/nats-event-bus.js';
import { refusal, refusalOf } from '../support/unit.js';
import { serviceAvailable, services } from '../support/services.js';
import { eventBusContract } from './event-bus.contract.js';

eventBusContract('memory', () => Promise.resolve(new MemoryEventBus()));

// Each replica is its own NATS connection; the suite's topics carry a random prefix, so runs in parallel
// against the same server do not see each other's messages.
if (await serviceAvailable('nats')) {
  const open = () => NatsEventBus.connect(services.nats.url);
  eventBusContract('nats', open, open);

  describe('NATS event bus', () => {
    it('refuses topics that are not NATS subjects and patterns with a misplaced wildcard', async () => {
      const bus = await open();
      try {
        expect((await refusal(bus.publish('a..b', {}))).status).toBe(400);
        expect((await refusal(bus.publish('a.*', {}))).message).toContain('without wildcards');
        expect(refusalOf(() => bus.subscribe('a.>.b', () => {})).message).toContain("final '>'");
        expect(refusalOf(() => bus.subscribe('a b', () => {})).status).toBe(400);
      } finally {
        await bus.close();
      }
    });

    it('travels on cb.events.<topic> as JSON a plain NATS client reads, and answers a ping', async () => {
      const bus = await open();
      const plain = await connect({ servers: services.nats.url });
      const topic = `raw${Math.random().toString(36).slice(2, 8)}.costs`;
      const seen: { subject: string; body: unknown; at: string | undefined }[] = [];
      plain.subscribe(`cb.events.${topic}`, {
        callback: (_error, message) => {
          seen.push({ subject: message.subject, body: message.json(), at: message.headers?.get('Cb-Published-At') });
        },
      });
      await plain.flush();
      try {
        await bus.ping?.();
        await bus.publish(topic, { usd: 1 });
        await expect.poll(() => seen.length).toBe(1);
        expect(seen[0]).toMatchObject({ subject: `cb.events.${topic}`, body: { usd: 1 }, at: expect.stringMatching(/^\d+$/) });
      } finally {
        await bus.close();
        await plain.close();
      }
    });

    it('says which server it could not reach, without the password', async () => {
      const error = await refusal(NatsEventBus.connect('nats://user:hunter2@127.0.0.1:1'));
      expect(error.code).toBe('not_ready');
      expect(error.message).toContain('127.0.0.1:1');
      expect(error.message).not.toContain('hunter2');
    });
  });
}

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
