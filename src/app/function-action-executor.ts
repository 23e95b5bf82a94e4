import { isGatewayError } from '../core/errors.js';
import { ActionError } from '../engine/action-executor.js';
import type { ActionExecutor, ActionRequest, ActionResult } from '../engine/action-executor.js';
import { isSettledFailure } from '../functions/retry-delay.js';
import type { FunctionService } from './function-service.js';

/**
 * The engine's executor for `function` actions (`{ function: 'enrich-order' }`): runs the named
 * function with the firing's merged input data and answers its output for the engine to merge into the
 * output tokens. Executions are keyed by firing id (`firing:<id>`): when the outbox runs a firing's
 * action again (a crash, a lease expiry, a retry), a completed execution answers its recorded output
 * without running the function a second time; one that did not complete runs again under the same
 * record. The function's own retry policy applies inside one call; what another try cannot fix (bad
 * input, an output that fails its schema, a missing secret, an unknown or disabled function) is not
 * retryable, the rest (a failed or timed-out run, a missing runtime) is.
 */
export class FunctionActionExecutor implements ActionExecutor {
  constructor(private readonly functions: FunctionService) {}

  async execute(request: ActionRequest): Promise<ActionResult> {
    if (!('function' in request.action))
      throw new ActionError('wrong_executor', 'the function executor runs function actions only', { retryable: false });
    const name = request.action.function;
    if (typeof name !== 'string')
      throw new ActionError(
        'inline_function_unsupported',
        `transition '${request.transitionId}' defines its function inline, which is not run yet; register it (POST /api/v1/functions) and name it in the action`,
        { retryable: false },
      );
    let record;
    try {
      record = await this.functions.invoke(name, request.data, {
        idempotencyKey: `firing:${request.firingId}`,
        trigger: { kind: 'action', detail: request.transitionId },
        triggerEvent: {
          type: 'ACTION',
          firingId: request.firingId,
          transitionId: request.transitionId,
          attempt: request.attempt,
          variables: request.variables,
        },
        workflowId: request.workflowId,
        instanceId: request.instanceId,
        signal: request.signal,
      });
    } catch (error) {
      if (isGatewayError(error) && error.status === 404)
        throw new ActionError(
          'unknown_function',
          `transition '${request.transitionId}' names function '${name}', which is not registered`,
          {
            retryable: false,
          },
        );
      throw error;
    }
    if (record.status === 'completed') return { output: record.output };
    const error = record.error ?? { code: 'function_error', message: `function '${name}' ${record.status}` };
    throw new ActionError(error.code, `function '${name}' (execution ${record.id}) ${record.status}: ${error.message}`, {
      retryable: !isSettledFailure(error.code),
    });
  }
}
