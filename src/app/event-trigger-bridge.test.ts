import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { MemoryEventBus } from '../streaming/memory-event-bus.js';
import { EventTriggerBridge, eventOf } from './event-trigger-bridge.js';

describe('EventTriggerBridge', () => {
  it('reads the type and data of function and custom events', () => {
    const at = 1;
    expect(
      eventOf({ topic: 'functions.f', payload: { type: 'FUNCTION_COMPLETED', functionName: 'f', success: true }, publishedAt: at }),
    ).toEqual({
      type: 'FUNCTION_COMPLETED',
      data: { functionName: 'f', success: true },
    });
    expect(eventOf({ topic: 'custom.deploy', payload: { type: 'deploy', data: { region: 'eu' } }, publishedAt: at })).toEqual({
      type: 'deploy',
      data: { region: 'eu' },
    });
    expect(eventOf({ topic: 'custom.x', payload: 'text', publishedAt: at })).toBeUndefined();
    expect(eventOf({ topic: 'custom.x', payload: { data: {} }, publishedAt: at })).toBeUndefined();
  });

  it('delivers internal events in order, one at a time, and nothing else; a failed delivery does not stop the next', async () => {
    const events = new MemoryEventBus();
    const delivered: string[] = [];
    let active = 0;
    const bridge = new EventTriggerBridge(
      events,
      async (type) => {
        active++;
        expect(active).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
        delivered.push(type);
        if (type === 'first') throw new Error('boom');
      },
      silentLogger,
    );
    bridge.start();
    await events.publish('custom.first', { type: 'first', data: {} });
    await events.publish('functions.f', { type: 'FUNCTION_COMPLETED' });
    await events.publish('workflow.w.instance.i', { type: 'TOKEN_CREATED' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await bridge.idle();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await bridge.idle();
    expect(delivered).toEqual(['first', 'FUNCTION_COMPLETED']);
    bridge.stop();
    await events.publish('custom.after', { type: 'after' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await bridge.idle();
    expect(delivered).toEqual(['first', 'FUNCTION_COMPLETED']);
    await events.close();
  });
});
