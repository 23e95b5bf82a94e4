import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContainer } from '../../app/container.js';
import { invalidRequest } from '../../core/errors.js';
import type { FunctionExecutionRecord, StoredFunction } from '../../storage/function-repository.js';
import { ExecutionStatus } from '../../storage/function-repository.js';
import { validateBody } from '../validate.js';

const admin = { config: { access: 'admin' as const } };

const invokeSchema = z.strictObject({
  /** The function's input (any JSON; default null). */
  input: z.unknown().optional(),
  /** false: answer 202 with the pending execution and run in the background. */
  wait: z.boolean().optional(),
  /** One execution per key: repeating the call answers the first execution. */
  idempotency_key: z.string().min(1).max(200).optional(),
});

const listQuery = z.strictObject({
  status: z.enum(Object.values(ExecutionStatus) as [ExecutionStatus, ...ExecutionStatus[]]).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

/**
 * Functions (docs/functions.md): definitions are managed with the admin key (`POST /api/v1/functions`,
 * `PUT|DELETE /api/v1/functions/{name}`); any key may list them, invoke them and read executions.
 * Errors go through the one error mapper (400 with every definition problem, 404, 409).
 */
export function registerFunctions(app: FastifyInstance, container: AppContainer): void {
  const functions = container.functions;
  app.post('/api/v1/functions', admin, async (request, reply) => {
    const stored = await functions.create(request.body);
    reply.code(201);
    return functionJson(stored);
  });
  app.get('/api/v1/functions', async () => ({ data: (await functions.list()).map(functionJson) }));
  app.get<{ Params: { name: string } }>('/api/v1/functions/:name', async (request) =>
    functionJson(await functions.get(request.params.name)),
  );
  app.put<{ Params: { name: string } }>('/api/v1/functions/:name', admin, async (request) =>
    functionJson(await functions.update(request.params.name, request.body)),
  );
  app.delete<{ Params: { name: string } }>('/api/v1/functions/:name', admin, async (request, reply) => {
    await functions.delete(request.params.name);
    reply.code(204);
  });
  app.post<{ Params: { name: string } }>('/api/v1/functions/:name/invoke', async (request, reply) => {
    const body = validateBody(invokeSchema, request.body ?? {});
    const record = await functions.invoke(request.params.name, body.input ?? null, {
      ...(body.wait === undefined ? {} : { wait: body.wait }),
      ...(body.idempotency_key === undefined ? {} : { idempotencyKey: `api:${body.idempotency_key}` }),
    });
    if (body.wait === false) reply.code(202);
    return executionJson(record);
  });
  app.get<{ Params: { name: string }; Querystring: unknown }>('/api/v1/functions/:name/executions', async (request) => {
    const parsed = listQuery.safeParse(request.query ?? {});
    if (!parsed.success)
      throw invalidRequest(`Invalid query: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    const query = {
      ...(parsed.data.status ? { status: parsed.data.status } : {}),
      ...(parsed.data.limit ? { limit: parsed.data.limit } : {}),
    };
    return { data: (await functions.executions(request.params.name, query)).map(executionJson) };
  });
  app.get<{ Params: { id: string } }>('/api/v1/function-executions/:id', async (request) =>
    executionJson(await functions.execution(request.params.id)),
  );
}

export function functionJson(stored: StoredFunction) {
  return {
    name: stored.name,
    version: stored.version,
    definition: stored.definition,
    created_at: iso(stored.createdAt),
    updated_at: iso(stored.updatedAt),
  };
}

export function executionJson(record: FunctionExecutionRecord) {
  return {
    id: record.id,
    function: record.functionName,
    function_version: record.functionVersion,
    status: record.status,
    attempt: record.attempt,
    max_attempts: record.maxAttempts,
    input: record.input,
    output: record.output,
    error: record.error,
    stdout: record.stdout,
    stderr: record.stderr,
    exit_code: record.exitCode,
    trigger: record.trigger,
    workflow_id: record.workflowId,
    instance_id: record.instanceId,
    parent_id: record.parentId,
    chain_root_id: record.chainRootId,
    created_at: iso(record.createdAt),
    scheduled_at: iso(record.scheduledAt),
    started_at: iso(record.startedAt),
    finished_at: iso(record.finishedAt),
    duration_ms: record.durationMs,
  };
}

function iso(at: number | null): string | null {
  return at === null ? null : new Date(at).toISOString();
}
