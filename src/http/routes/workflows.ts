import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContainer } from '../../app/container.js';
import { hasPlaceAgents, isPipelineInput, WorkflowRefusedError } from '../../app/pipeline-service.js';
import type { PipelineService, PublishMode } from '../../app/pipeline-service.js';
import type { WorkflowService } from '../../app/workflow-service.js';
import { currentPlace } from '../../app/workflow-service.js';
import { ErrorCode, invalidRequest } from '../../core/errors.js';
import type { WorkflowInstance } from '../../engine/workflow-instance.js';
import type { StoredDefinition } from '../../storage/workflow-repository.js';
import { validateBody } from '../validate.js';
import { streamInstanceEvents } from './workflow-events.js';

const json = z.record(z.string(), z.unknown());
const startSchema = z.strictObject({
  initialData: json.optional(),
  metadata: json.optional(),
  variables: json.optional(),
  version: z.number().int().positive().optional(),
});
const fireSchema = z.strictObject({
  transitionId: z.string().min(1),
  data: json.optional(),
  expectedRevision: z.number().int().nonnegative().optional(),
});
const cancelSchema = z.strictObject({ reason: z.string().min(1).max(500).optional() });
const eventSchema = z.strictObject({ type: z.string().min(1).max(200), data: json.optional(), workflowId: z.string().min(1).optional() });

type InstanceParams = { Params: { id: string } };

/**
 * The workflow REST API (docs/workflows.md, "API"): definitions (`/api/v1/workflows`, analysed and
 * versioned), instances (start, read, transitions with guard verdicts, fire with `expectedRevision`,
 * cancel, history) and the instance's event stream as SSE with `Last-Event-ID` resume. Behind the
 * access guard like every `/api` route; errors go through the one error mapper.
 */
export function registerWorkflows(app: FastifyInstance, container: AppContainer): void {
  const workflows = container.workflows;

  app.post('/api/v1/workflows', async (request, reply) => {
    const body = requireObject(request.body);
    if (isPipelineInput(body)) {
      const created = await refusedAs422(() => container.pipelines.create(body));
      if ('refused' in created) return reply.code(422).send(refusedBody(created.refused));
      reply.code(201);
      return { ...definitionJson(created.record), instance: created.instance ? instanceJson(created.instance) : null };
    }
    const published = await publishDefinition(workflows, container.pipelines, body, { kind: 'create' });
    if (!published.ok) return reply.code(422).send(refusedBody(published.report));
    reply.code(201);
    return definitionJson(published.record);
  });
  app.post('/api/v1/workflows/check', async (request) => workflows.catalog.check(requireObject(request.body)));
  app.get('/api/v1/workflows', async () => ({ data: (await workflows.catalog.list()).map(definitionJson) }));
  app.get<{ Params: { id: string }; Querystring: { version?: string } }>('/api/v1/workflows/:id', async (request) => {
    const version = request.query.version === undefined ? undefined : wholeNumber(request.query.version, 'version');
    return definitionJson(await workflows.catalog.get(request.params.id, version));
  });
  app.get<{ Params: { id: string } }>('/api/v1/workflows/:id/versions', async (request) => {
    await workflows.catalog.get(request.params.id);
    return { data: (await workflows.catalog.versions(request.params.id)).map(definitionJson) };
  });
  app.put<{ Params: { id: string } }>('/api/v1/workflows/:id', async (request, reply) => {
    const published = await publishDefinition(workflows, container.pipelines, requireObject(request.body), {
      kind: 'version',
      workflowId: request.params.id,
    });
    if (!published.ok) return reply.code(422).send(refusedBody(published.report));
    return definitionJson(published.record);
  });

  app.post<{ Params: { id: string } }>('/api/v1/workflows/:id/instances', async (request, reply) => {
    const input = validateBody(startSchema, request.body ?? {});
    const instance = await workflows.startInstance(request.params.id, input);
    reply.code(201);
    return instanceJson(instance);
  });
  app.get<{ Params: { id: string }; Querystring: { limit?: string } }>('/api/v1/workflows/:id/instances', async (request) => {
    await workflows.catalog.get(request.params.id);
    const limit = request.query.limit === undefined ? 100 : wholeNumber(request.query.limit, 'limit', 1000);
    return { data: (await workflows.listInstances({ workflowId: request.params.id, limit })).map(instanceJson) };
  });

  app.get<InstanceParams>('/api/v1/workflows/instances/:id', async (request) =>
    instanceJson(await workflows.getInstance(request.params.id)),
  );
  app.get<InstanceParams>('/api/v1/workflows/instances/:id/transitions', async (request) => {
    const { instance, transitions } = await workflows.transitions(request.params.id);
    return {
      instanceId: instance.id,
      revision: instance.revision,
      status: instance.status,
      data: transitions.map((transition) => ({
        ...transition,
        guard:
          transition.guard === undefined
            ? null
            : {
                passed: transition.guard.passed,
                explanation: transition.guard.explanation,
                ...(transition.guard.error ? { error: transition.guard.error } : {}),
              },
      })),
    };
  });
  app.post<InstanceParams>('/api/v1/workflows/instances/:id/fire', async (request) => {
    const input = validateBody(fireSchema, request.body);
    const fired = await workflows.fire(request.params.id, input.transitionId, input);
    return { firingId: fired.firingId, ...instanceJson(fired.instance) };
  });
  app.post<InstanceParams>('/api/v1/workflows/instances/:id/cancel', async (request) => {
    const input = validateBody(cancelSchema, request.body ?? {});
    return instanceJson(await workflows.cancel(request.params.id, input.reason));
  });
  app.get<InstanceParams & { Querystring: { after?: string; limit?: string } }>(
    '/api/v1/workflows/instances/:id/history',
    async (request) => {
      const afterSequence = request.query.after === undefined ? 0 : wholeNumber(request.query.after, 'after');
      const limit = request.query.limit === undefined ? 1000 : wholeNumber(request.query.limit, 'limit', 1000);
      return { data: await workflows.history(request.params.id, { afterSequence, limit }) };
    },
  );
  app.get<InstanceParams & { Querystring: { after?: string } }>('/api/v1/workflows/instances/:id/events', async (request, reply) => {
    const header = request.headers['last-event-id'];
    const given = typeof header === 'string' && header !== '' ? header : request.query.after;
    const afterSequence = given === undefined ? 0 : wholeNumber(given, 'Last-Event-ID');
    const instance = await workflows.getInstance(request.params.id);
    reply.hijack();
    await streamInstanceEvents({ request, response: reply.raw, container, instance, afterSequence });
  });
  app.post('/api/v1/workflows/events', async (request) => {
    const input = validateBody(eventSchema, request.body);
    return {
      fired: await workflows.deliverEvent(
        input.type,
        input.data ?? {},
        input.workflowId === undefined ? {} : { workflowId: input.workflowId },
      ),
    };
  });
}

/** Publishes a plain definition; one with agents on places goes through the pipelines (which expand them). */
async function publishDefinition(
  workflows: WorkflowService,
  pipelines: PipelineService,
  body: Record<string, unknown>,
  mode: PublishMode,
): Promise<{ ok: true; record: StoredDefinition } | { ok: false; report: unknown }> {
  if (!hasPlaceAgents(body)) return workflows.catalog.publish(body, mode);
  const published = await refusedAs422(() => pipelines.publish(body, mode));
  return 'refused' in published ? { ok: false, report: published.refused } : { ok: true, record: published.record };
}

async function refusedAs422<T>(body: () => Promise<T>): Promise<T | { refused: unknown }> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof WorkflowRefusedError) return { refused: error.report };
    throw error;
  }
}

/** An instance as the API shows it (camelCase, like the seed's API). */
export function instanceJson(instance: WorkflowInstance) {
  return {
    id: instance.id,
    workflowId: instance.workflowId,
    version: instance.version,
    status: instance.status,
    marking: instance.marking,
    currentPlace: currentPlace(instance),
    revision: instance.revision,
    tokens: instance.tokens,
    variables: instance.variables,
    metadata: instance.metadata,
    error: instance.error ?? null,
    createdAt: new Date(instance.createdAt).toISOString(),
    updatedAt: new Date(instance.updatedAt).toISOString(),
    streamUrl: `/api/v1/workflows/instances/${instance.id}/events`,
  };
}

function definitionJson(record: StoredDefinition) {
  return {
    id: record.workflowId,
    version: record.version,
    name: record.definition.name,
    definition: record.definition,
    analysis: record.analysis,
    createdAt: new Date(record.createdAt).toISOString(),
  };
}

function refusedBody(report: unknown) {
  return {
    error: {
      message: 'The workflow definition has errors and was not published; `analysis.issues` lists each one with where it is.',
      type: 'invalid_request_error',
      param: null,
      code: ErrorCode.workflowInvalid,
    },
    analysis: report,
  };
}

function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidRequest('The request body must be a workflow definition as a JSON object.');
  return body as Record<string, unknown>;
}

function wholeNumber(text: string, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > max)
    throw invalidRequest(
      `${name} must be a whole number${max === Number.MAX_SAFE_INTEGER ? '' : ` from 0 to ${max}`}, not '${text}'.`,
      name,
    );
  return value;
}
