import { ActionError } from '../engine/action-executor.js';
import type { ActionExecutor, ActionRequest, ActionResult } from '../engine/action-executor.js';
import type { JsonObject } from '../engine/workflow-instance.js';
import type { AgentOutput } from '../storage/agent-repository.js';
import { parseAgentDefinition } from './agent-definition.js';
import type { AgentDefinition } from './agent-definition.js';
import { AgentErrorCode } from './agent-error.js';
import type { AgentRunner } from './agent-runner.js';

/** Finds a stored agent by id; undefined when there is none. */
export type AgentResolver = (id: string) => Promise<AgentDefinition | undefined>;

/**
 * The engine's executor for `agent` actions (`{ agent: 'writer' }` or an inline definition): runs the
 * agent on the firing's merged input data, the first input token's metadata and the instance's
 * variables, and returns `{ [outputKey]: output }` for the engine to merge into the output tokens
 * (the parsed JSON for agents with an output schema, the text otherwise; tool calls, when the model
 * made any, under `<outputKey>_tool_calls`). Idempotent per firing (the runner reuses a completed
 * execution). Failures map onto `ActionError`: what another try cannot fix (a missing template
 * variable, an unknown agent, answers that kept failing the schema, a refused request) is not
 * retryable; timeouts, unavailable providers and cancellation are.
 */
export class AgentActionExecutor implements ActionExecutor {
  constructor(
    private readonly runner: AgentRunner,
    private readonly resolve: AgentResolver,
  ) {}

  async execute(request: ActionRequest): Promise<ActionResult> {
    if (!('agent' in request.action))
      throw new ActionError('wrong_executor', 'the agent executor runs agent actions only', { retryable: false });
    const agent = await this.agentOf(request.action.agent, request.transitionId);
    const result = await this.runner.run({
      agent,
      scope: { data: request.data, metadata: request.tokens[0]?.metadata ?? {}, variables: request.variables },
      site: {
        workflowId: request.workflowId,
        instanceId: request.instanceId,
        transitionId: request.transitionId,
        firingId: request.firingId,
      },
      signal: request.signal,
    });
    if (result.output) return { output: outputData(agent, result.output) };
    const error = result.execution.error ?? { code: 'internal_error', message: `agent '${agent.id}' failed` };
    const settled = error.code === AgentErrorCode.outputInvalid || error.code === AgentErrorCode.templateVariableMissing;
    const retryable = !settled && (result.execution.status === 'timed_out' || result.execution.status === 'cancelled' || result.retryable);
    throw new ActionError(error.code, error.message, { retryable });
  }

  private async agentOf(spec: string | Record<string, unknown>, transitionId: string): Promise<AgentDefinition> {
    if (typeof spec === 'string') {
      const agent = await this.resolve(spec);
      if (!agent)
        throw new ActionError(AgentErrorCode.unknownAgent, `transition '${transitionId}' names agent '${spec}', which is not defined`, {
          retryable: false,
        });
      return agent;
    }
    const parsed = parseAgentDefinition({ id: transitionId, ...spec });
    if (!parsed.ok)
      throw new ActionError(
        'invalid_agent',
        `the inline agent of transition '${transitionId}' is invalid: ${parsed.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
        { retryable: false },
      );
    return parsed.agent;
  }
}

/** What an agent's output puts into the output tokens' data. */
export function outputData(agent: Pick<AgentDefinition, 'outputKey'>, output: AgentOutput): JsonObject {
  const data: JsonObject = { [agent.outputKey]: output.json !== undefined ? output.json : output.text };
  if (output.toolCalls.length > 0)
    data[`${agent.outputKey}_tool_calls`] = output.toolCalls.map((call) => ({
      id: call.id,
      name: call.name,
      arguments: parseArguments(call.arguments),
    }));
  return data;
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
