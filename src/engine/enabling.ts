import { formatExplanation } from '../rules/index.js';
import type { RuleData, RuleTrace } from '../rules/index.js';
import type { CompiledGuard, CompiledTransition, CompiledWorkflow } from './compiled-workflow.js';
import { mergeData } from './merge-data.js';
import type { JsonObject, Token } from './workflow-instance.js';

/** A guard's verdict on one binding, with its explanation (text for people, trace for tools). */
export interface GuardOutcome {
  passed: boolean;
  /** Indented text, one line per condition (`formatExplanation`); "no guard" when there is none. */
  explanation: string;
  trace?: RuleTrace;
  error?: { code: string; message: string };
}

/** The tokens a firing would consume (in input-arc order), and the guard's verdict on them. */
export interface Binding {
  transition: CompiledTransition;
  tokens: Token[];
  guard: GuardOutcome;
}

/** Why a transition cannot fire now. */
export type EnablingRefusal =
  | { reason: 'not_enabled'; message: string }
  | { reason: 'capacity'; message: string }
  | { reason: 'guard_failed'; message: string; guard: GuardOutcome };

export type EnablingResult = { ok: true; binding: Binding } | ({ ok: false } & EnablingRefusal);

/** At most this many token combinations are tried per transition before the guard's refusal is final. */
export const maxBindingsTried = 64;

const noGuard: GuardOutcome = Object.freeze({ passed: true, explanation: 'no guard' });

/** Live tokens in FIFO order (oldest first, then by id), the order bindings are tried in. */
export function fifo(tokens: readonly Token[]): Token[] {
  return [...tokens].sort((left, right) => left.createdAt - right.createdAt || (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
}

/** Input weights summed per place, in input-arc order. */
export function inputWeights(transition: CompiledTransition): Map<string, number> {
  const weights = new Map<string, number>();
  for (const arc of transition.definition.inputs) weights.set(arc.place, (weights.get(arc.place) ?? 0) + arc.weight);
  return weights;
}

/**
 * Finds a binding for `transition` on the live tokens: enough tokens on every input place, room in every
 * output place with a capacity, and a guard that passes. Combinations are tried oldest tokens first, up
 * to `maxBindingsTried`; the first whose guard passes wins. The guard is always evaluated: there is no
 * other way for a transition to fire.
 */
export function findBinding(
  workflow: CompiledWorkflow,
  transition: CompiledTransition,
  tokens: readonly Token[],
  context: { variables: JsonObject; input: JsonObject; event?: JsonObject; explain?: boolean },
): EnablingResult {
  const byPlace = groupByPlace(fifo(tokens));
  const weights = inputWeights(transition);
  for (const [place, weight] of weights) {
    const have = byPlace.get(place)?.length ?? 0;
    if (have < weight) {
      return {
        ok: false,
        reason: 'not_enabled',
        message: `place '${place}' holds ${have} token(s); transition '${transition.definition.id}' needs ${weight}`,
      };
    }
  }
  const full = capacityProblem(workflow, transition, byPlace, weights);
  if (full !== undefined) return { ok: false, reason: 'capacity', message: full };
  let lastRefusal: GuardOutcome | undefined;
  let tried = 0;
  for (const candidate of combinations([...weights].map(([place, weight]) => choose(byPlace.get(place) ?? [], weight)))) {
    if (tried++ >= maxBindingsTried) break;
    const guard = evaluateGuards(transition, guardData(candidate, context), context.explain === true);
    if (guard.passed) return { ok: true, binding: { transition, tokens: candidate, guard } };
    lastRefusal = guard;
  }
  const guard = lastRefusal ?? { passed: false, explanation: 'no binding was tried' };
  const message = guard.error
    ? `the guard of transition '${transition.definition.id}' could not be evaluated: ${guard.error.message}`
    : `the guard of transition '${transition.definition.id}' does not pass`;
  return { ok: false, reason: 'guard_failed', message, guard };
}

/** Whether the marking alone (weights and capacities, no guard) lets `transition` fire. */
export function markingEnables(workflow: CompiledWorkflow, transition: CompiledTransition, tokens: readonly Token[]): boolean {
  const byPlace = groupByPlace(tokens);
  const weights = inputWeights(transition);
  for (const [place, weight] of weights) if ((byPlace.get(place)?.length ?? 0) < weight) return false;
  return capacityProblem(workflow, transition, byPlace, weights) === undefined;
}

/** What a guard reads for a candidate binding (docs/workflows.md, "Guards"). */
export function guardData(tokens: readonly Token[], context: { variables: JsonObject; input: JsonObject; event?: JsonObject }): RuleData {
  const first = tokens[0];
  const byPlace: Record<string, unknown[]> = {};
  for (const token of tokens) (byPlace[token.place] ??= []).push({ id: token.id, data: token.data, metadata: token.metadata });
  return {
    token: first ? { id: first.id, place: first.place, data: first.data, metadata: first.metadata } : { data: {}, metadata: {} },
    tokens: byPlace,
    data: mergeData(...tokens.map((token) => token.data), context.input),
    metadata: mergeData(...tokens.map((token) => token.metadata)),
    variables: context.variables,
    input: context.input,
    ...(context.event === undefined ? {} : { event: context.event }),
  };
}

function evaluateGuards(transition: CompiledTransition, data: RuleData, explain: boolean): GuardOutcome {
  if (transition.filter !== undefined && data['event'] !== undefined) {
    const filter = evaluateGuard(transition.filter, data, explain);
    if (!filter.passed) return { ...filter, explanation: `event filter: ${filter.explanation}` };
  }
  return transition.guard === undefined ? noGuard : evaluateGuard(transition.guard, data, explain);
}

/** Evaluates one compiled guard; never throws. */
export function evaluateGuard(guard: CompiledGuard, data: RuleData, explain: boolean): GuardOutcome {
  if (guard.kind === 'invalid')
    return { passed: false, explanation: `invalid guard: ${guard.message}`, error: { code: 'invalid_rule', message: guard.message } };
  const verdict =
    guard.kind === 'rule'
      ? explain
        ? guard.rule.explain(data)
        : guard.rule.evaluate(data)
      : guard.registry === undefined
        ? {
            passed: false,
            value: undefined,
            error: { code: 'unknown_rule' as const, message: `'${guard.ref}' is a rule reference, but no rule registry is configured` },
          }
        : guard.registry.evaluate(guard.ref, data, { explain });
  const explanation = verdict.explanation
    ? formatExplanation(verdict.explanation)
    : verdict.error
      ? `! ${verdict.error.code}: ${verdict.error.message}`
      : verdict.passed
        ? '✓ passed'
        : '✗ failed';
  return {
    passed: verdict.passed,
    explanation,
    ...(verdict.explanation ? { trace: verdict.explanation } : {}),
    ...(verdict.error ? { error: { code: verdict.error.code, message: verdict.error.message } } : {}),
  };
}

function groupByPlace(tokens: readonly Token[]): Map<string, Token[]> {
  const byPlace = new Map<string, Token[]>();
  for (const token of tokens) {
    const list = byPlace.get(token.place);
    if (list) list.push(token);
    else byPlace.set(token.place, [token]);
  }
  return byPlace;
}

function capacityProblem(
  workflow: CompiledWorkflow,
  transition: CompiledTransition,
  byPlace: Map<string, Token[]>,
  weights: Map<string, number>,
): string | undefined {
  const produced = new Map<string, number>();
  for (const arc of transition.definition.outputs) produced.set(arc.place, (produced.get(arc.place) ?? 0) + arc.weight);
  for (const [place, count] of produced) {
    const capacity = workflow.places.get(place)?.capacity;
    if (capacity === undefined) continue;
    const after = (byPlace.get(place)?.length ?? 0) - (weights.get(place) ?? 0) + count;
    if (after > capacity) return `place '${place}' would hold ${after} token(s), above its capacity of ${capacity}`;
  }
  return undefined;
}

/** k-combinations of `items` in order (lazily). */
function* choose<T>(items: readonly T[], k: number, from = 0): Generator<T[]> {
  if (k === 0) {
    yield [];
    return;
  }
  for (let index = from; index <= items.length - k; index++) {
    for (const rest of choose(items, k - 1, index + 1)) yield [items[index]!, ...rest];
  }
}

/** The cartesian product of generators, concatenated (lazily). */
function* combinations<T>(parts: Generator<T[]>[]): Generator<T[]> {
  const [head, ...tail] = parts;
  if (head === undefined) {
    yield [];
    return;
  }
  const tailValues = tail.length === 0 ? [[]] : [...limit(combinations(tail), maxBindingsTried)];
  for (const first of head) for (const rest of tailValues) yield [...first, ...rest];
}

function* limit<T>(items: Generator<T>, count: number): Generator<T> {
  let seen = 0;
  for (const item of items) {
    if (seen++ >= count) return;
    yield item;
  }
}
