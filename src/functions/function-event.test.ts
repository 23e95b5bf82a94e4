import { describe, expect, it } from 'vitest';
import { functionDefinitionSchema } from './function-definition.js';
import type { FunctionTrigger } from './function-definition.js';
import { readEvent, triggerMatches } from './function-event.js';
import { retryDelayMs } from './retry-delay.js';

const trigger = (fields: Record<string, unknown>): FunctionTrigger =>
  functionDefinitionSchema.parse({ name: 'f', runtime: 'javascript', code: 'return 1', triggers: [fields] }).triggers[0] as FunctionTrigger;

describe('readEvent and triggerMatches', () => {
  const topic = 'workflow.review.instance.i1';

  it('reads engine events into trigger kinds with their places and transition', () => {
    const created = readEvent(
      topic,
      { type: 'TOKEN_CREATED', workflowId: 'review', instanceId: 'i1', sequence: 3, at: 5, data: { token: { id: 't', place: 'draft' } } },
      9,
    );
    expect(created).toMatchObject({
      kind: 'token_created',
      places: ['draft'],
      workflowId: 'review',
      instanceId: 'i1',
      id: `${topic}#3`,
      at: 5,
    });
    const moved = readEvent(
      topic,
      { type: 'WORKFLOW_TRANSITION', data: { fromPlace: 'draft', toPlace: ['review', 'audit'], transitionId: 'submit' } },
      9,
    );
    expect(moved).toMatchObject({
      kind: 'token_moved',
      fromPlaces: ['draft'],
      toPlaces: ['review', 'audit'],
      transition: 'submit',
      id: `${topic}#WORKFLOW_TRANSITION@9`,
    });
    expect(readEvent(topic, { type: 'COMPLETION', data: { place: 'done' } }, 1)).toMatchObject({
      kind: 'token_completed',
      places: ['done'],
    });
    expect(readEvent(topic, { type: 'INSTANCE_CREATED' }, 1)).toMatchObject({ kind: 'workflow_created' });
    expect(readEvent('custom.deploys', { name: 'deploy-finished', data: { env: 'prod' } }, 1)).toMatchObject({
      kind: 'custom',
      type: 'deploy-finished',
    });
    expect(readEvent(topic, 'not an object', 1)).toBeUndefined();
    expect(readEvent(topic, { data: {} }, 1)).toBeUndefined();
  });

  it('matches on kind, workflow, place ends, transition, function and custom name', () => {
    const moved = readEvent(
      topic,
      { type: 'WORKFLOW_TRANSITION', workflowId: 'review', data: { fromPlace: 'draft', toPlace: 'review', transitionId: 'submit' } },
      1,
    )!;
    expect(triggerMatches(trigger({ on: 'token_moved' }), moved)).toBe(true);
    expect(
      triggerMatches(
        trigger({ on: 'token_moved', fromPlace: 'draft', toPlace: 'review', transition: 'submit', workflowId: 'review' }),
        moved,
      ),
    ).toBe(true);
    expect(triggerMatches(trigger({ on: 'token_moved', place: 'review' }), moved)).toBe(true);
    expect(triggerMatches(trigger({ on: 'token_moved', toPlace: 'draft' }), moved)).toBe(false);
    expect(triggerMatches(trigger({ on: 'token_moved', workflowId: 'other' }), moved)).toBe(false);
    expect(triggerMatches(trigger({ on: 'token_created' }), moved)).toBe(false);
    const done = readEvent('functions.resize', { type: 'FUNCTION_COMPLETED', functionName: 'resize', success: false }, 1)!;
    expect(triggerMatches(trigger({ on: 'function_completed', function: 'resize', success: false }), done)).toBe(true);
    expect(triggerMatches(trigger({ on: 'function_completed', success: true }), done)).toBe(false);
    const custom = readEvent('custom.x', { type: 'deploy-finished' }, 1)!;
    expect(triggerMatches(trigger({ on: 'custom', event: 'deploy-finished' }), custom)).toBe(true);
    expect(triggerMatches(trigger({ on: 'custom', event: 'deploy-started' }), custom)).toBe(false);
  });
});

describe('retryDelayMs', () => {
  const policy = { attempts: 5, initialDelayMs: 1000, multiplier: 2, maxDelayMs: 5000, jitter: 0.2, on: ['failed' as const] };

  it('grows exponentially, is capped, and spreads by the jitter', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt, () => 0.5))).toEqual([1000, 2000, 4000, 5000]);
    expect(retryDelayMs(policy, 1, () => 0)).toBe(800);
    expect(retryDelayMs(policy, 1, () => 0.999999)).toBe(1200);
    expect(retryDelayMs({ ...policy, jitter: 0 }, 2, Math.random)).toBe(2000);
  });
});
