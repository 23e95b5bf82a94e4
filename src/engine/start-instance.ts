import type { InstanceStart } from '../storage/workflow-repository.js';
import type { CompiledWorkflow } from './compiled-workflow.js';
import { finishCommit } from './firing.js';
import type { FiringContext } from './firing.js';
import { mergeData } from './merge-data.js';
import { WorkflowEventType } from './workflow-instance.js';
import type { JsonObject, Token, WorkflowInstance } from './workflow-instance.js';

export interface StartRequest {
  instanceId: string;
  workflowId: string;
  version: number;
  /** Data of the first token(s), one per start place. */
  initialData: JsonObject;
  metadata: JsonObject;
  /** Merged over the definition's default variables. */
  variables: JsonObject;
}

/**
 * Plans a new instance: one token in each start place (checked against the place's schema), the
 * status those tokens give, timers of enabled timer transitions, and the first events.
 */
export function planStart(
  workflow: CompiledWorkflow,
  request: StartRequest,
  context: FiringContext,
): { ok: true; start: InstanceStart } | { ok: false; message: string } {
  for (const place of workflow.definition.start) {
    const problems = workflow.validatePlaceData(place, request.initialData);
    if (problems.length > 0)
      return { ok: false, message: `initialData does not match the schema of place '${place}': ${problems.join('; ')}` };
  }
  const tokens: Token[] = workflow.definition.start.map((place) => ({
    id: context.newId('token'),
    instanceId: request.instanceId,
    place,
    data: structuredClone(request.initialData),
    metadata: structuredClone(request.metadata),
    createdBy: undefined,
    parents: [],
    createdAt: context.now,
  }));
  const variables = mergeData(workflow.definition.variables, request.variables);
  const empty: WorkflowInstance = {
    id: request.instanceId,
    workflowId: request.workflowId,
    version: request.version,
    status: 'running',
    marking: {},
    tokens: [],
    variables,
    metadata: request.metadata,
    revision: 0,
    error: undefined,
    createdAt: context.now,
    updatedAt: context.now,
  };
  const created = {
    type: WorkflowEventType.instanceCreated,
    at: context.now,
    data: { workflowId: request.workflowId, version: request.version, initialData: request.initialData, variables },
  };
  const tokenEvents = tokens.map((token) => ({
    type: WorkflowEventType.tokenCreated,
    at: context.now,
    data: { token } as unknown as JsonObject,
  }));
  const commit = finishCommit(workflow, empty, { consume: [], produce: tokens, events: [created, ...tokenEvents], variables }, context);
  const { tokens: _none, revision: _zero, ...instance } = { ...empty, status: commit.status, marking: commit.marking, error: commit.error };
  return { ok: true, start: { instance, tokens, events: [...commit.events], timers: [...(commit.schedule ?? [])] } };
}
