import type { CompiledWorkflow } from './compiled-workflow.js';
import { findBinding, markingEnables } from './enabling.js';
import { triggerKind } from './workflow-definition.js';
import type { InstanceStatus, JsonObject, Token } from './workflow-instance.js';

/** The place that holds a firing's tokens while its action runs: `@<transitionId>`. */
export function busyPlace(transitionId: string): string {
  return `@${transitionId}`;
}

/** True for a busy place (`@review`), as opposed to a place of the definition. */
export function isBusyPlace(place: string): boolean {
  return place.startsWith('@');
}

/** Where an instance stands, and which transitions could move it. */
export interface InstanceOutlook {
  status: Exclude<InstanceStatus, 'failed' | 'cancelled'>;
  /** Automatic transitions whose marking and guard let them fire now, in definition order. */
  automatic: string[];
  /** Timer transitions enabled now (their timer runs). */
  timers: string[];
  /** Manual and event transitions the marking enables (their guard is checked when fired, with the input). */
  waitingOn: string[];
  /** Firings whose action is running. */
  inFlight: string[];
}

/**
 * The status the tokens give (docs/workflows.md, "Status"): `running` when an action is in flight or an
 * automatic or timer transition is enabled; `waiting` when only manual or event transitions are;
 * `completed` when nothing is enabled and a final place holds a token; `deadlocked` otherwise.
 */
export function outlook(workflow: CompiledWorkflow, tokens: readonly Token[], variables: JsonObject): InstanceOutlook {
  const result: InstanceOutlook = { status: 'deadlocked', automatic: [], timers: [], waitingOn: [], inFlight: [] };
  for (const token of tokens) if (isBusyPlace(token.place) && token.createdBy !== undefined) result.inFlight.push(token.createdBy);
  for (const transition of workflow.ordered) {
    const kind = triggerKind(transition.definition.trigger);
    if (kind === 'manual' || kind === 'event') {
      if (markingEnables(workflow, transition, tokens)) result.waitingOn.push(transition.definition.id);
      continue;
    }
    if (!findBinding(workflow, transition, tokens, { variables, input: {} }).ok) continue;
    (kind === 'timer' ? result.timers : result.automatic).push(transition.definition.id);
  }
  if (result.inFlight.length > 0 || result.automatic.length > 0 || result.timers.length > 0) result.status = 'running';
  else if (result.waitingOn.length > 0) result.status = 'waiting';
  else if (tokens.some((token) => workflow.isEnd(token.place))) result.status = 'completed';
  return result;
}
