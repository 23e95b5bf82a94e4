import { editDistance } from '../core/edit-distance.js';
import type { RuleRegistry } from '../rules/index.js';
import { exploreReachability, defaultStateBound } from './analysis-reachability.js';
import { AnalysisCode } from './analysis-report.js';
import type { AnalysisIssue, AnalysisReport } from './analysis-report.js';
import { CompiledWorkflow } from './compiled-workflow.js';
import { parseDefinition } from './workflow-definition.js';
import type { ActionSpec, WorkflowDefinition } from './workflow-definition.js';

export interface AnalysisOptions {
  /** Where `{ ref }` guards are resolved; without one, references are not checked. */
  registry?: RuleRegistry;
  /** Most markings explored (default 10 000). */
  stateBound?: number;
  /**
   * Checks an action (does the agent or function exist, is the inline definition valid); returns the
   * problems. Registered by the agents and functions layers; without it actions are not checked.
   */
  checkAction?: (action: Exclude<ActionSpec, 'none'>) => string[];
}

export type AnalysisResult =
  | { report: AnalysisReport; definition: WorkflowDefinition; compiled: CompiledWorkflow }
  | { report: AnalysisReport; definition: undefined; compiled: undefined };

export const guardAssumption =
  'guards and event filters are treated as "may pass": a transition is assumed to fire whenever the marking enables it';
export const actionAssumption = 'actions are treated as atomic: a firing consumes and produces its tokens in one step';

/**
 * Checks a definition before it can run: its shape, its structure (ids, arcs, start and end, what is
 * reachable), its guards, schemas and actions, then its behaviour by bounded reachability (deadlocks with
 * a firing sequence, dead transitions, unbounded places, workflow-net soundness). Never throws.
 */
export function analyzeDefinition(input: unknown, options: AnalysisOptions = {}): AnalysisResult {
  const parsed = parseDefinition(input);
  if (!parsed.ok) {
    const issues = parsed.issues.map((issue): AnalysisIssue => {
      if (issue.path === 'start')
        return {
          severity: 'error',
          code: AnalysisCode.noStart,
          message: `a workflow needs a start place ('start: <place id>'): ${issue.message}`,
          path: issue.path,
        };
      if (issue.path === 'end')
        return {
          severity: 'error',
          code: AnalysisCode.noEnd,
          message: `a workflow needs at least one end place ('end: <place id>'): ${issue.message}`,
          path: issue.path,
        };
      return { severity: 'error', code: AnalysisCode.invalidShape, message: issue.message, path: issue.path };
    });
    return {
      report: { ok: false, issues, reachability: undefined, soundness: undefined, assumptions: [] },
      definition: undefined,
      compiled: undefined,
    };
  }
  const definition = parsed.definition;
  const issues = structuralIssues(definition);
  const compiled = new CompiledWorkflow(definition, options.registry);
  for (const problem of compiled.problems) {
    const code = problem.path.includes('.schema') ? AnalysisCode.invalidSchema : AnalysisCode.invalidGuard;
    issues.push({ severity: 'error', code, message: problem.message, path: problem.path });
  }
  if (options.checkAction) {
    definition.transitions.forEach((transition, index) => {
      if (transition.action === 'none') return;
      for (const message of options.checkAction!(transition.action)) {
        issues.push({
          severity: 'error',
          code: AnalysisCode.invalidAction,
          message,
          path: `transitions[${index}].action`,
          transition: transition.id,
        });
      }
    });
  }
  const broken = issues.some(
    (issue) =>
      issue.severity === 'error' &&
      issue.code !== AnalysisCode.invalidGuard &&
      issue.code !== AnalysisCode.invalidAction &&
      issue.code !== AnalysisCode.invalidSchema,
  );
  let reachability: AnalysisReport['reachability'];
  let soundness: AnalysisReport['soundness'];
  if (!broken) {
    const explored = exploreReachability(definition, options.stateBound ?? defaultStateBound);
    reachability = explored.summary;
    soundness = explored.soundness;
    issues.push(...explored.issues);
  }
  const hasGuards = definition.transitions.some(
    (transition) => transition.guard !== undefined || (typeof transition.trigger === 'object' && 'event' in transition.trigger),
  );
  const assumptions = broken ? [] : [...(hasGuards ? [guardAssumption] : []), actionAssumption];
  const report: AnalysisReport = { ok: !issues.some((issue) => issue.severity === 'error'), issues, reachability, soundness, assumptions };
  return { report, definition, compiled };
}

/** Ids, arcs, start and end, and what the graph can reach (ignoring weights and guards). */
export function structuralIssues(definition: WorkflowDefinition): AnalysisIssue[] {
  const issues: AnalysisIssue[] = [];
  const places = new Set<string>();
  definition.places.forEach((place, index) => {
    if (places.has(place.id))
      issues.push({
        severity: 'error',
        code: AnalysisCode.duplicateId,
        message: `place id '${place.id}' is used twice`,
        path: `places[${index}].id`,
        place: place.id,
      });
    places.add(place.id);
  });
  const transitions = new Set<string>();
  definition.transitions.forEach((transition, index) => {
    if (transitions.has(transition.id))
      issues.push({
        severity: 'error',
        code: AnalysisCode.duplicateId,
        message: `transition id '${transition.id}' is used twice`,
        path: `transitions[${index}].id`,
        transition: transition.id,
      });
    transitions.add(transition.id);
    for (const side of ['inputs', 'outputs'] as const) {
      transition[side].forEach((arc, arcIndex) => {
        if (!places.has(arc.place)) {
          const message = `transition '${transition.id}' has an arc ${side === 'inputs' ? 'from' : 'to'} the unknown place '${arc.place}'${suggest(arc.place, places)}`;
          issues.push({
            severity: 'error',
            code: AnalysisCode.unknownPlace,
            message,
            path: `transitions[${index}].${side}[${arcIndex}].place`,
            transition: transition.id,
            place: arc.place,
          });
        }
      });
    }
    if (transition.inputs.length === 0)
      issues.push({
        severity: 'warning',
        code: AnalysisCode.sourceTransition,
        message: `transition '${transition.id}' has no input place: it is always enabled`,
        path: `transitions[${index}].inputs`,
        transition: transition.id,
      });
    if (transition.outputs.length === 0)
      issues.push({
        severity: 'warning',
        code: AnalysisCode.sinkTransition,
        message: `transition '${transition.id}' has no output place: its tokens disappear`,
        path: `transitions[${index}].outputs`,
        transition: transition.id,
      });
  });
  for (const side of ['start', 'end'] as const) {
    definition[side].forEach((place, index) => {
      if (!places.has(place))
        issues.push({
          severity: 'error',
          code: side === 'start' ? AnalysisCode.noStart : AnalysisCode.noEnd,
          message: `the ${side} place '${place}' is not a place of the workflow${suggest(place, places)}`,
          path: `${side}[${index}]`,
          place,
        });
    });
  }
  if (issues.some((issue) => issue.severity === 'error')) return issues;
  const forward = reach(definition, definition.start, 'forward');
  const backward = reach(definition, definition.end, 'backward');
  for (const place of definition.places) {
    if (!forward.has(`p:${place.id}`))
      issues.push({
        severity: 'error',
        code: AnalysisCode.unreachable,
        message: `place '${place.id}' cannot be reached from the start`,
        place: place.id,
      });
    else if (!backward.has(`p:${place.id}`))
      issues.push({
        severity: 'warning',
        code: AnalysisCode.cannotReachEnd,
        message: `no path leads from place '${place.id}' to an end place`,
        place: place.id,
      });
  }
  for (const transition of definition.transitions) {
    if (!forward.has(`t:${transition.id}`))
      issues.push({
        severity: 'error',
        code: AnalysisCode.unreachable,
        message: `transition '${transition.id}' cannot be reached from the start`,
        transition: transition.id,
      });
  }
  return issues;
}

/** Nodes (`p:id`, `t:id`) connected to `roots` along arcs, in the given direction. */
function reach(definition: WorkflowDefinition, roots: string[], direction: 'forward' | 'backward'): Set<string> {
  const seen = new Set(roots.map((place) => `p:${place}`));
  const stack = [...roots];
  if (direction === 'forward') {
    for (const transition of definition.transitions) {
      if (transition.inputs.length === 0) {
        seen.add(`t:${transition.id}`);
        stack.push(...transition.outputs.map((arc) => arc.place).filter((place) => !seen.has(`p:${place}`)));
        for (const arc of transition.outputs) seen.add(`p:${arc.place}`);
      }
    }
  }
  while (stack.length > 0) {
    const place = stack.pop()!;
    for (const transition of definition.transitions) {
      const from = direction === 'forward' ? transition.inputs : transition.outputs;
      const to = direction === 'forward' ? transition.outputs : transition.inputs;
      if (!from.some((arc) => arc.place === place)) continue;
      seen.add(`t:${transition.id}`);
      for (const arc of to) {
        if (seen.has(`p:${arc.place}`)) continue;
        seen.add(`p:${arc.place}`);
        stack.push(arc.place);
      }
    }
  }
  return seen;
}

function suggest(name: string, known: Set<string>): string {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}
