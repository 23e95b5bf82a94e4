import { describe, expect, it } from 'vitest';
import { analyzeDefinition } from '../engine/analysis.js';
import { expandPlaceAgents } from './place-agents.js';

const triage = {
  id: 'triage-flow',
  name: 'Triage',
  places: [{ id: 'inbox', agent: { agent: 'classifier', when: 'data.priority > 3', then: 'route' } }, { id: 'routed' }],
  transitions: [{ id: 'route', inputs: ['inbox'], outputs: ['routed'], trigger: 'manual' }],
  start: 'inbox',
  end: 'routed',
};

describe('expandPlaceAgents', () => {
  it('turns a place agent into an agent transition, a skip path and an automatic follow-up', () => {
    const result = expandPlaceAgents(triage);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.expanded).toEqual(['inbox']);
    expect(result.definition['places']).toEqual([
      { id: 'inbox' },
      { id: 'inbox_ready', name: 'inbox (after its agent)' },
      { id: 'routed' },
    ]);
    expect(result.definition['transitions']).toEqual([
      { id: 'route', inputs: ['inbox_ready'], outputs: ['routed'], trigger: 'automatic' },
      { id: 'inbox_agent', inputs: ['inbox'], outputs: ['inbox_ready'], guard: 'data.priority > 3', action: { agent: 'classifier' } },
      { id: 'inbox_skip', inputs: ['inbox'], outputs: ['inbox_ready'], guard: '!(data.priority > 3)' },
    ]);
    const { report } = analyzeDefinition(result.definition);
    expect(report.ok).toBe(true);
    expect(report.soundness).toMatchObject({ applicable: true, sound: true });
  });

  it('negates a structured rule, moves an end place and leaves definitions without place agents alone', () => {
    const result = expandPlaceAgents({
      name: 'x',
      places: [
        { id: 'a' },
        { id: 'b', agent: { agent: { model: 'auto', userTemplate: 'Sum {x}' }, when: { field: 'data.x', op: 'exists' } } },
      ],
      transitions: [{ id: 't', inputs: ['a'], outputs: ['b'] }],
      start: 'a',
      end: ['b'],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.definition['end']).toEqual(['b_ready']);
    expect((result.definition['transitions'] as { id: string; guard?: unknown }[]).find((t) => t.id === 'b_skip')?.guard).toEqual({
      not: { field: 'data.x', op: 'exists' },
    });
    expect(analyzeDefinition(result.definition).report.soundness).toMatchObject({ sound: true });
    const plain = { name: 'y', places: [{ id: 'a' }], start: 'a', end: 'a' };
    expect(expandPlaceAgents(plain)).toEqual({ ok: true, definition: plain, expanded: [] });
  });

  it('refuses a referenced trigger rule, an unknown follow-up and one that does not read the place', () => {
    const result = expandPlaceAgents({
      ...triage,
      places: [
        { id: 'inbox', agent: { agent: 'classifier', when: { ref: 'urgent' }, then: 'nowhere' } },
        { id: 'routed', agent: { agent: 'x', then: 'route' } },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.message)).toEqual([
      'write the trigger rule inline (CEL or structured): a { ref } cannot be negated for the skip path',
      "transition 'route' does not take tokens from 'routed', so it cannot fire after its agent",
      "there is no transition 'nowhere'",
    ]);
  });
});
