import { z } from 'zod';
import type { GuardSource, WorkflowDefinitionInput } from '../engine/workflow-definition.js';
import type { PipelineIssue } from './pipeline-compiler.js';

/**
 * Agents on places, as a net fragment (docs/agents.md, "Agents on places"). A place may carry
 *
 * ```yaml
 * places:
 *   - id: triage
 *     agent: { agent: classifier, when: "data.priority > 3", then: route }
 * ```
 *
 * meaning: when a token arrives in `triage` and the `when` rule passes, the agent runs and writes its
 * output into the token; then `route` (a transition that takes tokens from `triage`) fires
 * automatically. Expanded before publication into plain engine nodes, so the analysis sees it all:
 * - `<place>_agent` (guard `when`, action the agent): `<place>` → `<place>_ready`;
 * - `<place>_skip` (guard `not when`, only when there is a `when`): `<place>` → `<place>_ready`;
 * - every transition that took tokens from `<place>` now takes them from `<place>_ready` (an end place
 *   moves there too), and the `then` transition's trigger becomes `automatic`.
 * `when` must be written inline (CEL or structured) because the skip path needs its negation.
 */
export const placeAgentSchema = z.strictObject({
  agent: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  when: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  then: z.string().min(1).optional(),
});

export type PlaceAgent = z.output<typeof placeAgentSchema>;

type Transition = NonNullable<WorkflowDefinitionInput['transitions']>[number];
type ArcInput = NonNullable<Transition['inputs']>[number];

export type PlaceAgentExpansion =
  { ok: true; definition: Record<string, unknown>; expanded: string[] } | { ok: false; issues: PipelineIssue[] };

/** Rewrites places that carry `agent` into engine transitions; a definition without any comes back unchanged. */
export function expandPlaceAgents(input: unknown): PlaceAgentExpansion {
  if (input === null || typeof input !== 'object' || !Array.isArray((input as { places?: unknown }).places))
    return { ok: true, definition: input as Record<string, unknown>, expanded: [] };
  const source = input as Record<string, unknown> & { places: unknown[]; transitions?: unknown };
  const issues: PipelineIssue[] = [];
  const places: unknown[] = [];
  const added: Transition[] = [];
  const moved = new Map<string, string>();
  const automatic = new Map<string, string>();
  const placeIds = new Set(
    source.places.map((place) => (place as { id?: unknown }).id).filter((id): id is string => typeof id === 'string'),
  );
  source.places.forEach((place, index) => {
    if (place === null || typeof place !== 'object' || !('agent' in place)) return places.push(place);
    const { agent: spec, ...plain } = place as unknown as Record<string, unknown> & { id: string };
    places.push(plain);
    const parsed = placeAgentSchema.safeParse(spec);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        issues.push({ path: [`places[${index}].agent`, ...issue.path.map(String)].join('.'), message: issue.message });
      return;
    }
    const id = plain.id;
    let ready = `${id}_ready`;
    while (placeIds.has(ready)) ready += '_';
    placeIds.add(ready);
    places.push({ id: ready, name: `${id} (after its agent)` });
    moved.set(id, ready);
    const { when, then } = parsed.data;
    added.push({
      id: `${id}_agent`,
      inputs: [id],
      outputs: [ready],
      ...(when === undefined ? {} : { guard: when }),
      action: { agent: parsed.data.agent },
    });
    if (when !== undefined) {
      const negated = negate(when);
      if (negated === undefined)
        issues.push({
          path: `places[${index}].agent.when`,
          message: 'write the trigger rule inline (CEL or structured): a { ref } cannot be negated for the skip path',
        });
      else added.push({ id: `${id}_skip`, inputs: [id], outputs: [ready], guard: negated });
    }
    if (then !== undefined) automatic.set(then, id);
  });
  if (moved.size === 0) return issues.length > 0 ? { ok: false, issues } : { ok: true, definition: source, expanded: [] };
  const transitions = (Array.isArray(source.transitions) ? source.transitions : []).map((transition) => {
    if (transition === null || typeof transition !== 'object') return transition;
    const copy = { ...(transition as Transition) };
    if (Array.isArray(copy.inputs)) copy.inputs = copy.inputs.map((arc) => movedArc(arc, moved));
    const place = automatic.get(copy.id);
    if (place !== undefined) {
      if (!(copy.inputs ?? []).some((arc) => (typeof arc === 'string' ? arc : arc.place) === moved.get(place)))
        issues.push({
          path: `places.${place}.agent.then`,
          message: `transition '${copy.id}' does not take tokens from '${place}', so it cannot fire after its agent`,
        });
      copy.trigger = 'automatic';
      automatic.delete(copy.id);
    }
    return copy;
  });
  for (const [then, place] of automatic) issues.push({ path: `places.${place}.agent.then`, message: `there is no transition '${then}'` });
  if (issues.length > 0) return { ok: false, issues };
  const end = source['end'];
  const movedEnd =
    typeof end === 'string'
      ? (moved.get(end) ?? end)
      : Array.isArray(end)
        ? end.map((place: unknown) => (typeof place === 'string' ? (moved.get(place) ?? place) : place))
        : end;
  return {
    ok: true,
    definition: { ...source, places, transitions: [...transitions, ...added], end: movedEnd },
    expanded: [...moved.keys()],
  };
}

function movedArc(arc: ArcInput, moved: ReadonlyMap<string, string>): ArcInput {
  if (typeof arc === 'string') return moved.get(arc) ?? arc;
  return { ...arc, place: moved.get(arc.place) ?? arc.place };
}

function negate(rule: GuardSource): GuardSource | undefined {
  if (typeof rule === 'string') return `!(${rule})`;
  if (typeof rule['ref'] === 'string') return undefined;
  return { not: rule };
}
