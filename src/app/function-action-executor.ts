import { ErrorCode, GatewayError } from '../core/errors.js';
import type { FunctionExecutionRecord } from '../storage/function-repository.js';
import type { FunctionService } from './function-service.js';

/**
 * What the engine hands an action executor for a firing whose action is `{ function: name }`. The
 * shape mirrors the engine's `ActionExecutor` port (src/engine/action-executor.ts on the engine branch).
 */
export interface FunctionActionRequest {
  firingId: string;
  workflowId: string;
  instanceId: string;
  transitionId: string;
  action: { function: string | Record<string, unknown> };
  /** The firing's merged token data: the function's input. */
  input: unknown;
  variables: unknown;
  signal?: AbortSignal;
}

/** A function action that did not complete; `execution` is the record (status, error, stderr). */
export class FunctionActionError extends GatewayError {
  constructor(readonly execution: FunctionExecutionRecord) {
    super(
      ErrorCode.functionFailed,
      `The function '${execution.functionName}' ${execution.status === 'timed_out' ? 'timed out' : execution.status} (execution ${execution.id}): ${execution.error?.message ?? 'no reason recorded'}`,
      { status: 502, isRetryable: false },
    );
    this.name = 'FunctionActionError';
  }
}

/**
 * Runs functions as engine actions. Executions are keyed by firing id (`firing:<id>`): when the engine
 * runs a firing's action again (after a crash, from its outbox), a completed execution answers its
 * recorded output without running the function a second time; one that did not complete runs again
 * under the same record. The function's own retry policy applies inside one call.
 */
export class FunctionActionExecutor {
  constructor(private readonly functions: FunctionService) {}

  async execute(request: FunctionActionRequest): Promise<{ output: unknown; executionId: string }> {
    const name = request.action.function;
    if (typeof name !== 'string')
      throw new GatewayError(
        ErrorCode.invalidRequest,
        `Transition '${request.transitionId}': inline function definitions are not run yet; register the function (POST /api/v1/functions) and name it in the action.`,
        { status: 400 },
      );
    const record = await this.functions.invoke(name, request.input, {
      idempotencyKey: `firing:${request.firingId}`,
      trigger: { kind: 'action', detail: request.transitionId },
      triggerEvent: { type: 'ACTION', firingId: request.firingId, transitionId: request.transitionId, variables: request.variables },
      workflowId: request.workflowId,
      instanceId: request.instanceId,
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
    if (record.status !== 'completed') throw new FunctionActionError(record);
    return { output: record.output, executionId: record.id };
  }
}
