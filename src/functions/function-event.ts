import type { TriggerKind } from './function-definition.js';
import type { FunctionTrigger } from './function-definition.js';

/**
 * An event as function triggers see it: the engine's bus payload (`{type, workflowId, instanceId,
 * data, …}` on `workflow.<id>.instance.<id>`) or a function's own FUNCTION_COMPLETED, read into the
 * fields triggers filter on. Filter rules and input mappings read it as `event`.
 */
export interface FunctionEvent {
  kind: TriggerKind;
  /** The payload's `type` (`TOKEN_CREATED`, `WORKFLOW_TRANSITION`, …) or a custom event's name. */
  type: string;
  topic: string;
  /** Stable across replicas for one published event, so one event starts one execution per trigger. */
  id: string;
  workflowId: string | undefined;
  instanceId: string | undefined;
  /** Places the event touches: where a token was created or completed, or where it moved from/to. */
  places: string[];
  fromPlaces: string[];
  toPlaces: string[];
  transition: string | undefined;
  function: string | undefined;
  success: boolean | undefined;
  /** The payload's `data` (or the payload itself when it has none). */
  data: unknown;
  at: number;
}

/** Engine event types → trigger kinds; any other type is a custom event. */
const kindByType: Record<string, TriggerKind> = {
  TOKEN_CREATED: 'token_created',
  WORKFLOW_TRANSITION: 'token_moved',
  TOKEN_MOVED: 'token_moved',
  TOKEN_TRANSITIONED: 'token_moved',
  TOKEN_COMPLETED: 'token_completed',
  COMPLETION: 'token_completed',
  INSTANCE_CREATED: 'workflow_created',
  WORKFLOW_CREATED: 'workflow_created',
  FUNCTION_COMPLETED: 'function_completed',
};

/** Reads a bus message into a `FunctionEvent`; undefined when the payload has no `type` or `name`. */
export function readEvent(topic: string, payload: unknown, publishedAt: number): FunctionEvent | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const body = payload as Record<string, unknown>;
  const type = text(body['type']) ?? text(body['name']);
  if (type === undefined) return undefined;
  const data = isObject(body['data']) ? body['data'] : body;
  const field = (...names: string[]): unknown => {
    for (const name of names) {
      if (data[name] !== undefined) return data[name];
      if (body[name] !== undefined) return body[name];
    }
    return undefined;
  };
  const token = isObject(data['token']) ? data['token'] : undefined;
  const fromPlaces = list(field('fromPlace', 'from', 'fromPlaces', 'consumedFrom'));
  const toPlaces = list(field('toPlace', 'to', 'toPlaces', 'producedIn'));
  const places = [...new Set([...list(field('place', 'placeId', 'finalPlace')), ...list(token?.['place']), ...fromPlaces, ...toPlaces])];
  const sequence = body['sequence'] ?? body['id'];
  return {
    kind: kindByType[type] ?? 'custom',
    type,
    topic,
    id: `${topic}#${typeof sequence === 'number' || typeof sequence === 'string' ? String(sequence) : `${type}@${publishedAt}`}`,
    workflowId: text(field('workflowId')),
    instanceId: text(field('instanceId')),
    places,
    fromPlaces,
    toPlaces,
    transition: text(field('transitionId', 'transition')),
    function: text(field('functionName', 'function')),
    success: typeof field('success') === 'boolean' ? (field('success') as boolean) : undefined,
    data: body['data'] ?? payload,
    at: typeof body['at'] === 'number' ? body['at'] : publishedAt,
  };
}

/** Whether the trigger's fixed fields (kind, workflow, place, transition, function, custom name) match. */
export function triggerMatches(trigger: FunctionTrigger, event: FunctionEvent): boolean {
  if (trigger.on !== event.kind) return false;
  if (trigger.workflowId !== undefined && trigger.workflowId !== event.workflowId) return false;
  if (trigger.place !== undefined && !event.places.includes(trigger.place)) return false;
  if (trigger.fromPlace !== undefined && !event.fromPlaces.includes(trigger.fromPlace)) return false;
  if (trigger.toPlace !== undefined && !event.toPlaces.includes(trigger.toPlace)) return false;
  if (trigger.transition !== undefined && trigger.transition !== event.transition) return false;
  if (trigger.function !== undefined && trigger.function !== event.function) return false;
  if (trigger.success !== undefined && trigger.success !== event.success) return false;
  if (trigger.event !== undefined && trigger.event !== event.type) return false;
  return true;
}

/** The event as rules and mappings read it (`event.type`, `event.data.token.data.priority`, …). */
export function eventView(event: FunctionEvent): Record<string, unknown> {
  return {
    type: event.type,
    kind: event.kind,
    topic: event.topic,
    workflowId: event.workflowId ?? null,
    instanceId: event.instanceId ?? null,
    places: event.places,
    fromPlaces: event.fromPlaces,
    toPlaces: event.toPlaces,
    transition: event.transition ?? null,
    function: event.function ?? null,
    success: event.success ?? null,
    data: event.data,
    at: event.at,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function list(value: unknown): string[] {
  if (typeof value === 'string' && value !== '') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}
