import { describe, expect, it } from 'vitest';
import { RuleRegistry } from '../rules/index.js';
import { analyzeDefinition } from './analysis.js';
import { formatReport } from './analysis-report.js';

const place = (id: string) => ({ id });
const t = (
  id: string,
  inputs: (string | { place: string; weight: number })[],
  outputs: (string | { place: string; weight: number })[],
  extra: Record<string, unknown> = {},
) => ({ id, inputs, outputs, ...extra });

describe('analyzeDefinition on classic nets', () => {
  it('finds a sound workflow net sound (fork, parallel branches, join)', () => {
    const { report } = analyzeDefinition({
      name: 'parallel review',
      places: ['i', 'a', 'b', 'a2', 'b2', 'o'].map(place),
      transitions: [
        t('fork', ['i'], ['a', 'b']),
        t('review', ['a'], ['a2']),
        t('scan', ['b'], ['b2'], { guard: 'token.data.clean == true' }),
        t('join', ['a2', 'b2'], ['o']),
      ],
      start: 'i',
      end: 'o',
    });
    expect(report.ok).toBe(true);
    expect(report.issues).toEqual([]);
    expect(report.reachability).toMatchObject({
      complete: true,
      statesExplored: 6,
      deadlocks: [],
      deadTransitions: [],
      unboundedPlaces: [],
    });
    expect(report.soundness).toMatchObject({
      applicable: true,
      sound: true,
      optionToComplete: true,
      properCompletion: true,
      noDeadTransitions: true,
    });
    expect(report.assumptions.join(' ')).toContain('may pass');
    expect(formatReport(report)).toContain('soundness: sound');
  });

  it('reports a reachable deadlock with the firing sequence that leads to it, as an error', () => {
    const { report } = analyzeDefinition({
      name: 'choice then join',
      places: ['i', 'a', 'b', 'o'].map(place),
      transitions: [t('left', ['i'], ['a']), t('right', ['i'], ['b']), t('finish', ['a', 'b'], ['o'])],
      start: 'i',
      end: 'o',
    });
    expect(report.ok).toBe(false);
    const deadlocks = report.issues.filter((issue) => issue.code === 'deadlock');
    expect(deadlocks.map((issue) => issue.sequence)).toEqual([['left'], ['right']]);
    expect(deadlocks[0]?.marking).toEqual({ a: 1 });
    expect(report.reachability?.deadTransitions).toEqual(['finish']);
    expect(report.soundness).toMatchObject({ sound: false, optionToComplete: false, noDeadTransitions: false });
    expect(formatReport(report)).toContain('firing sequence: left');
  });

  it('reports an unbounded place with a pumping sequence, and calls the net unsound', () => {
    const { report } = analyzeDefinition({
      name: 'pump',
      places: ['i', 'loop', 'o'].map(place),
      transitions: [t('spawn', ['i'], ['i', 'loop']), t('stop', ['i'], ['o']), t('drain', ['loop'], [])],
      start: 'i',
      end: 'o',
    });
    expect(report.ok).toBe(true);
    expect(report.issues.find((issue) => issue.code === 'unbounded_place')).toMatchObject({ place: 'loop', sequence: [] });
    expect(report.reachability?.complete).toBe(false);
    expect(report.soundness?.sound).toBe(false);
  });

  it('reports a dead transition and improper completion', () => {
    const { report } = analyzeDefinition({
      name: 'dead',
      places: ['i', 'a', 'b', 'o'].map(place),
      transitions: [t('split', ['i'], ['a', 'b']), t('end', ['a'], ['o']), t('never', ['a', { place: 'b', weight: 2 }], ['o'])],
      start: 'i',
      end: 'o',
    });
    expect(report.ok).toBe(true);
    expect(report.issues.map((issue) => issue.code)).toEqual(expect.arrayContaining(['dead_transition', 'unsound']));
    expect(report.reachability?.deadTransitions).toEqual(['never']);
    expect(report.soundness).toMatchObject({ sound: false, properCompletion: false });
  });

  it('says when the exploration is cut by its bound', () => {
    const places = Array.from({ length: 12 }, (_, index) => `p${index}`);
    const { report } = analyzeDefinition(
      {
        name: 'wide',
        places: [place('i'), ...places.map(place), ...places.map((id) => place(`${id}x`)), place('o')],
        transitions: [
          t('fork', ['i'], places),
          ...places.map((id) => t(`go-${id}`, [id], [`${id}x`])),
          t(
            'join',
            places.map((id) => `${id}x`),
            ['o'],
          ),
        ],
        start: 'i',
        end: 'o',
      },
      { stateBound: 100 },
    );
    expect(report.reachability).toMatchObject({ bound: 100, statesExplored: 100, complete: false });
    expect(report.issues.map((issue) => issue.code)).toContain('bound_reached');
    expect(report.soundness?.sound).toBe('unknown');
  });
});

describe('analyzeDefinition structure', () => {
  it('refuses dangling arcs, unknown start and end places with suggestions', () => {
    const { report } = analyzeDefinition({
      name: 'x',
      places: ['draft', 'done'].map(place),
      transitions: [t('go', ['drafts'], ['dne'])],
      start: 'draf',
      end: 'finished',
    });
    expect(report.ok).toBe(false);
    expect(report.issues.map((issue) => [issue.code, issue.path])).toEqual([
      ['unknown_place', 'transitions[0].inputs[0].place'],
      ['unknown_place', 'transitions[0].outputs[0].place'],
      ['no_start', 'start[0]'],
      ['no_end', 'end[0]'],
    ]);
    expect(report.issues[0]?.message).toContain("did you mean 'draft'?");
    expect(report.reachability).toBeUndefined();
  });

  it('refuses a missing start, duplicate ids and unreachable nodes', () => {
    expect(analyzeDefinition({ name: 'x', places: [place('a')], end: 'a' }).report.issues[0]).toMatchObject({ code: 'no_start' });
    const { report } = analyzeDefinition({
      name: 'x',
      places: ['i', 'o', 'island', 'i'].map(place),
      transitions: [t('go', ['i'], ['o']), t('lost', ['island'], ['o'])],
      start: 'i',
      end: 'o',
    });
    expect(report.issues.map((issue) => issue.code)).toEqual(['duplicate_id']);
    const unreachable = analyzeDefinition({
      name: 'x',
      places: ['i', 'o', 'island'].map(place),
      transitions: [t('go', ['i'], ['o']), t('lost', ['island'], ['o'])],
      start: 'i',
      end: 'o',
    }).report;
    expect(unreachable.ok).toBe(false);
    expect(unreachable.issues.filter((issue) => issue.code === 'unreachable').map((issue) => issue.place ?? issue.transition)).toEqual([
      'island',
      'lost',
    ]);
  });

  it('refuses guards that do not compile, unknown rule references and bad schemas', () => {
    const registry = new RuleRegistry();
    registry.register('review-ok', 'data.score > 3', { variables: ['token', 'tokens', 'data', 'metadata', 'variables', 'input'] });
    const { report } = analyzeDefinition(
      {
        name: 'x',
        places: [place('i'), { id: 'o', schema: { type: 'nonsense' } }],
        transitions: [
          t('a', ['i'], ['o'], { guard: 'token.data.x >' }),
          t('b', ['i'], ['o'], { guard: { field: 'secret.x', op: 'eq', value: 1 } }),
          t('c', ['i'], ['o'], { guard: { ref: 'review-okk' } }),
          t('d', ['i'], ['o'], { guard: { ref: 'review-ok' } }),
        ],
        start: 'i',
        end: 'o',
      },
      { registry },
    );
    expect(report.ok).toBe(false);
    const codes = report.issues.filter((issue) => issue.severity === 'error').map((issue) => [issue.code, issue.path?.split('.')[0]]);
    expect(codes).toEqual([
      ['invalid_schema', 'places[1]'],
      ['invalid_guard', 'transitions[0]'],
      ['invalid_guard', 'transitions[1]'],
      ['invalid_guard', 'transitions[2]'],
    ]);
  });

  it('resolves { ref, version } guards, and refuses unknown references with or without a registry', () => {
    const variables = ['token', 'tokens', 'data', 'metadata', 'variables', 'input'];
    const registry = new RuleRegistry();
    registry.register('review-ok', 'data.score > 3', { variables });
    registry.register('review-ok', 'data.score > 4', { variables });
    const definition = (guards: unknown[]) => ({
      name: 'x',
      places: [place('i'), place('o')],
      transitions: guards.map((guard, index) => t(`t${index}`, ['i'], ['o'], { guard })),
      start: 'i',
      end: 'o',
    });
    const pinned = analyzeDefinition(
      definition([
        { ref: 'review-ok', version: 2 },
        { ref: 'review-ok', version: 1 },
      ]),
      { registry },
    );
    expect(pinned.report.ok).toBe(true);
    expect(pinned.compiled?.ordered.map((transition) => transition.guard)).toMatchObject([
      { kind: 'ref', ref: 'review-ok@2' },
      { kind: 'ref', ref: 'review-ok@1' },
    ]);
    const messages = (input: unknown, options: { registry?: RuleRegistry }) =>
      analyzeDefinition(input, options)
        .report.issues.filter((issue) => issue.severity === 'error')
        .map((issue) => issue.message);
    expect(messages(definition([{ ref: 'review-ok', version: 3 }]), { registry })).toEqual([
      "rule 'review-ok' has versions 1 to 2, not 3 (POST /api/v1/rules stores one)",
    ]);
    expect(messages(definition([{ ref: 'reviewok' }]), { registry })[0]).toContain("did you mean 'review-ok'?");
    expect(messages(definition([{ ref: 'review-ok' }]), {})).toEqual([
      "guard refers to the stored rule 'review-ok', but no rule store is configured here",
    ]);
  });

  it('asks the action checker about every action', () => {
    const { report } = analyzeDefinition(
      {
        name: 'x',
        places: ['i', 'o'].map(place),
        transitions: [t('a', ['i'], ['o'], { action: { agent: 'ghost' } })],
        start: 'i',
        end: 'o',
      },
      { checkAction: (action) => ('agent' in action && action.agent === 'ghost' ? ["no agent named 'ghost'"] : []) },
    );
    expect(report.issues).toEqual([
      expect.objectContaining({ code: 'invalid_action', transition: 'a', message: "no agent named 'ghost'" }),
    ]);
  });
});
