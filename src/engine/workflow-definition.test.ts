import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import { actionKind, parseDefinition, timerDelayMs, triggerKind } from './workflow-definition.js';

const minimal = {
  name: 'Review',
  places: [{ id: 'draft' }, { id: 'done' }],
  transitions: [{ id: 'approve', inputs: ['draft'], outputs: [{ place: 'done', weight: 2 }], trigger: 'manual' }],
  start: 'draft',
  end: 'done',
};

describe('parseDefinition', () => {
  it('applies defaults: weight 1, automatic trigger, no action, lists for start and end', () => {
    const parsed = parseDefinition({ ...minimal, transitions: [{ id: 'go', inputs: ['draft'], outputs: ['done'] }] });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.definition.start).toEqual(['draft']);
    expect(parsed.definition.end).toEqual(['done']);
    expect(parsed.definition.transitions[0]).toEqual({
      id: 'go',
      inputs: [{ place: 'draft', weight: 1 }],
      outputs: [{ place: 'done', weight: 1 }],
      trigger: 'automatic',
      action: 'none',
    });
    expect(parsed.definition.variables).toEqual({});
  });

  it('keeps weights, guards in their three forms, timer and event triggers and actions', () => {
    const parsed = parseDefinition({
      ...minimal,
      transitions: [
        {
          id: 'a',
          inputs: ['draft'],
          outputs: [{ place: 'done', weight: 2 }],
          guard: 'token.data.score > 3',
          trigger: { timer: { after: '5m' } },
        },
        {
          id: 'b',
          inputs: ['draft'],
          outputs: ['done'],
          guard: { ref: 'review-ok@2' },
          trigger: { event: { type: 'merge_request.opened', filter: { field: 'data.x', op: 'exists' } } },
          action: { agent: 'reviewer' },
        },
        {
          id: 'c',
          inputs: ['draft'],
          outputs: ['done'],
          guard: { field: 'data.score', op: 'gte', value: 4 },
          action: { function: 'lint' },
        },
      ],
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const [a, b, c] = parsed.definition.transitions;
    expect(a?.outputs[0]?.weight).toBe(2);
    expect(triggerKind(a!.trigger)).toBe('timer');
    expect(timerDelayMs(a!.trigger)).toBe(300_000);
    expect(triggerKind(b!.trigger)).toBe('event');
    expect(b?.guard).toEqual({ ref: 'review-ok@2' });
    expect(actionKind(b!.action)).toBe('agent');
    expect(actionKind(c!.action)).toBe('function');
    expect(c?.guard).toEqual({ field: 'data.score', op: 'gte', value: 4 });
  });

  it('reports every shape problem with its path', () => {
    const parsed = parseDefinition({
      name: '',
      places: [{ id: 'has space' }],
      transitions: [{ id: 't', inputs: [{ place: 'a', weight: 0 }], trigger: 'sometimes', extra: true }],
      start: [],
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const paths = parsed.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'places[0].id', 'transitions[0].trigger', 'transitions[0]', 'start', 'end']));
    expect(parsed.issues.find((issue) => issue.path === 'places[0].id')?.message).toMatch(/letters, digits/);
  });

  it('refuses a bad timer duration', () => {
    const parsed = parseDefinition({
      ...minimal,
      transitions: [{ id: 't', inputs: ['draft'], outputs: ['done'], trigger: { timer: { after: 'soon' } } }],
    });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues[0]?.message).toMatch(/duration/);
  });
});

describe('parseDuration', () => {
  it('reads milliseconds and unit text, and refuses anything else', () => {
    expect(parseDuration(250)).toBe(250);
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
    expect(parseDuration(Number.NaN)).toBeUndefined();
  });
});
