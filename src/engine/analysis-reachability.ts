import type { AnalysisIssue, ReachabilitySummary, SoundnessVerdict } from './analysis-report.js';
import { AnalysisCode } from './analysis-report.js';
import type { WorkflowDefinition } from './workflow-definition.js';

/** Default number of markings the exploration visits before it stops (and says so). */
export const defaultStateBound = 10_000;
const maxReported = 5;

interface Net {
  places: string[];
  /** Per transition: input and output weights by place index, and capacities. */
  inputs: [number, number][][];
  outputs: [number, number][][];
  capacity: (number | undefined)[];
  transitionIds: string[];
  ends: number[];
}

/**
 * Explores the reachability graph from the initial marking (one token in each start place), breadth
 * first, up to `bound` markings. Guards are treated as "may pass" and actions as atomic. Finds dead
 * markings (deadlocks when no final place is marked), transitions never enabled, unbounded places (a
 * marking that strictly covers one of its ancestors), and for workflow nets the soundness verdict.
 */
export function exploreReachability(
  definition: WorkflowDefinition,
  bound = defaultStateBound,
): { summary: ReachabilitySummary; soundness: SoundnessVerdict; issues: AnalysisIssue[] } {
  const net = buildNet(definition);
  const size = net.places.length;
  const initial = new Array<number>(size).fill(0);
  for (const place of definition.start) initial[net.places.indexOf(place)]! += 1;
  const markings: number[][] = [initial];
  const parent: number[] = [-1];
  const via: number[] = [-1];
  const index = new Map<string, number>([[initial.join(','), 0]]);
  const edges: [number, number][] = [];
  const enabledEver = new Set<number>();
  const unbounded = new Map<number, number>();
  const dead: number[] = [];
  let complete = true;

  for (let state = 0; state < markings.length; state++) {
    const marking = markings[state]!;
    let anyEnabled = false;
    for (let transition = 0; transition < net.transitionIds.length; transition++) {
      const next = fire(net, marking, transition);
      if (next === undefined) continue;
      anyEnabled = true;
      enabledEver.add(transition);
      const key = next.join(',');
      const known = index.get(key);
      if (known !== undefined) {
        edges.push([state, known]);
        continue;
      }
      const covered = coveredAncestor(markings, parent, state, next);
      if (covered !== undefined) {
        for (let place = 0; place < size; place++) if (next[place]! > covered[place]! && !unbounded.has(place)) unbounded.set(place, state);
        complete = false;
        continue;
      }
      if (markings.length >= bound) {
        complete = false;
        continue;
      }
      index.set(key, markings.length);
      edges.push([state, markings.length]);
      markings.push(next);
      parent.push(state);
      via.push(transition);
    }
    if (!anyEnabled) dead.push(state);
  }

  const path = (state: number): string[] => {
    const steps: string[] = [];
    for (let current = state; parent[current]! >= 0; current = parent[current]!) steps.unshift(net.transitionIds[via[current]!]!);
    return steps;
  };
  const named = (marking: number[]): Record<string, number> => {
    const result: Record<string, number> = {};
    marking.forEach((count, place) => {
      if (count > 0) result[net.places[place]!] = count;
    });
    return result;
  };
  const endMarked = (marking: number[]) => net.ends.some((place) => marking[place]! > 0);
  const deadlocks = dead
    .filter((state) => !endMarked(markings[state]!))
    .map((state) => ({ marking: named(markings[state]!), sequence: path(state) }));
  const deadTransitions = net.transitionIds.filter((_, transition) => !enabledEver.has(transition));
  const unboundedPlaces = [...unbounded].map(([place, state]) => ({ place: net.places[place]!, sequence: path(state) }));
  const maxTokens: Record<string, number> = {};
  for (const marking of markings)
    marking.forEach((count, place) => (maxTokens[net.places[place]!] = Math.max(maxTokens[net.places[place]!] ?? 0, count)));

  const issues: AnalysisIssue[] = [];
  for (const deadlock of deadlocks.slice(0, maxReported)) {
    issues.push({
      severity: 'error',
      code: AnalysisCode.deadlock,
      message: `a deadlock is reachable: no transition can fire in ${describe(deadlock.marking)} and no final place is marked`,
      ...deadlock,
    });
  }
  if (deadlocks.length > maxReported)
    issues.push({
      severity: 'info',
      code: AnalysisCode.deadlock,
      message: `${deadlocks.length - maxReported} more deadlock(s) not listed`,
    });
  for (const transition of deadTransitions) {
    const message = complete
      ? `transition '${transition}' can never fire`
      : `transition '${transition}' was not enabled in the ${markings.length} marking(s) explored`;
    issues.push({ severity: 'warning', code: AnalysisCode.deadTransition, message, transition });
  }
  for (const entry of unboundedPlaces) {
    issues.push({
      severity: 'warning',
      code: AnalysisCode.unboundedPlace,
      message: `place '${entry.place}' is unbounded: repeating the sequence adds tokens without limit`,
      place: entry.place,
      sequence: entry.sequence,
    });
  }
  if (markings.length >= bound && unbounded.size === 0) {
    issues.push({
      severity: 'info',
      code: AnalysisCode.boundReached,
      message: `the exploration stopped at ${bound} markings; verdicts cover the markings explored only`,
    });
  }

  const soundness = judgeSoundness(definition, net, {
    markings,
    edges,
    complete,
    unbounded: unbounded.size > 0,
    deadTransitions,
    endMarked,
    path,
    named,
  });
  if (soundness.applicable && soundness.sound === false) {
    issues.push({
      severity: 'warning',
      code: AnalysisCode.unsound,
      message: `the workflow net is not sound: ${soundness.reasons.join('; ')}`,
    });
  }
  return {
    summary: { bound, statesExplored: markings.length, complete, deadlocks, deadTransitions, unboundedPlaces, maxTokens },
    soundness,
    issues,
  };
}

interface Explored {
  markings: number[][];
  edges: [number, number][];
  complete: boolean;
  unbounded: boolean;
  deadTransitions: string[];
  endMarked: (marking: number[]) => boolean;
  path: (state: number) => string[];
  named: (marking: number[]) => Record<string, number>;
}

function judgeSoundness(definition: WorkflowDefinition, net: Net, explored: Explored): SoundnessVerdict {
  if (definition.start.length !== 1 || definition.end.length !== 1) {
    return {
      applicable: false,
      sound: 'unknown',
      optionToComplete: 'unknown',
      properCompletion: 'unknown',
      noDeadTransitions: 'unknown',
      reasons: [],
    };
  }
  const reasons: string[] = [];
  if (explored.unbounded) reasons.push('a place is unbounded (a sound workflow net is bounded)');
  const end = net.ends[0]!;
  const isFinal = (marking: number[]) => marking.every((count, place) => count === (place === end ? 1 : 0));
  const improper = explored.markings.findIndex((marking) => explored.endMarked(marking) && !isFinal(marking));
  const properCompletion = improper === -1 ? (explored.complete ? true : 'unknown') : false;
  if (improper !== -1) {
    reasons.push(
      `the end place is marked while ${describe(explored.named(explored.markings[improper]!))} (after ${explored.path(improper).join(' → ') || 'start'})`,
    );
  }
  const canFinish = new Set<number>();
  explored.markings.forEach((marking, state) => {
    if (isFinal(marking)) canFinish.add(state);
  });
  for (let changed = true; changed;) {
    changed = false;
    for (const [from, to] of explored.edges) {
      if (canFinish.has(to) && !canFinish.has(from)) {
        canFinish.add(from);
        changed = true;
      }
    }
  }
  const stuck = explored.markings.findIndex((_, state) => !canFinish.has(state));
  const optionToComplete = stuck === -1 ? (explored.complete ? true : 'unknown') : explored.complete ? false : 'unknown';
  if (stuck !== -1 && explored.complete) {
    reasons.push(
      `from ${describe(explored.named(explored.markings[stuck]!))} (after ${explored.path(stuck).join(' → ') || 'start'}) the end cannot be reached`,
    );
  }
  const noDeadTransitions =
    explored.deadTransitions.length === 0 ? (explored.complete ? true : 'unknown') : explored.complete ? false : 'unknown';
  if (noDeadTransitions === false) reasons.push(`dead transition(s): ${explored.deadTransitions.join(', ')}`);
  const verdicts = [optionToComplete, properCompletion, noDeadTransitions];
  const sound = explored.unbounded || verdicts.includes(false) ? false : verdicts.every((verdict) => verdict === true) ? true : 'unknown';
  if (sound === 'unknown') reasons.push('the exploration was cut by its bound, so soundness is not decided');
  if (sound === true) reasons.push('every run can complete, completes cleanly, and every transition can fire');
  return { applicable: true, sound, optionToComplete, properCompletion, noDeadTransitions, reasons };
}

function buildNet(definition: WorkflowDefinition): Net {
  const places = definition.places.map((place) => place.id);
  const at = (place: string) => places.indexOf(place);
  const weights = (arcs: { place: string; weight: number }[]) => {
    const summed = new Map<number, number>();
    for (const arc of arcs) summed.set(at(arc.place), (summed.get(at(arc.place)) ?? 0) + arc.weight);
    return [...summed];
  };
  return {
    places,
    inputs: definition.transitions.map((transition) => weights(transition.inputs)),
    outputs: definition.transitions.map((transition) => weights(transition.outputs)),
    capacity: definition.places.map((place) => place.capacity),
    transitionIds: definition.transitions.map((transition) => transition.id),
    ends: definition.end.map(at),
  };
}

function fire(net: Net, marking: number[], transition: number): number[] | undefined {
  for (const [place, weight] of net.inputs[transition]!) if (marking[place]! < weight) return undefined;
  const next = [...marking];
  for (const [place, weight] of net.inputs[transition]!) next[place]! -= weight;
  for (const [place, weight] of net.outputs[transition]!) next[place]! += weight;
  for (const [place] of net.outputs[transition]!) {
    const capacity = net.capacity[place];
    if (capacity !== undefined && next[place]! > capacity) return undefined;
  }
  return next;
}

/** An ancestor of `state` (itself included) that `next` strictly covers, if any. */
function coveredAncestor(markings: number[][], parent: number[], state: number, next: number[]): number[] | undefined {
  for (let current = state; current >= 0; current = parent[current]!) {
    const ancestor = markings[current]!;
    let covers = true;
    let strict = false;
    for (let place = 0; place < next.length; place++) {
      if (next[place]! < ancestor[place]!) {
        covers = false;
        break;
      }
      if (next[place]! > ancestor[place]!) strict = true;
    }
    if (covers && strict) return ancestor;
  }
  return undefined;
}

function describe(marking: Record<string, number>): string {
  const entries = Object.entries(marking);
  if (entries.length === 0) return 'the empty marking';
  return entries.map(([place, count]) => `${place}: ${count}`).join(', ');
}
