import type { AgentToolInvoker } from '../agents/agent-runner.js';
import type { FunctionService } from './function-service.js';

/**
 * Agents' tools over the functions layer: a tool named like a registered function runs that function
 * with the call's arguments as its input, and its output is the tool result the model reads. The run
 * is recorded as a function execution (trigger `tool`, detail `<agent>/<tool>`, with the workflow and
 * instance when the agent runs in one). A tool with no such function, or a run that does not
 * complete, throws; the agent runner hands the message back to the model as `{"error": …}`.
 */
export class FunctionToolInvoker implements AgentToolInvoker {
  constructor(private readonly functions: Pick<FunctionService, 'invoke'>) {}

  async invoke(call: Parameters<AgentToolInvoker['invoke']>[0]): Promise<unknown> {
    const record = await this.functions.invoke(call.tool.name, call.arguments ?? null, {
      trigger: { kind: 'tool', detail: `${call.agentId}/${call.tool.name}` },
      triggerEvent: { type: 'AGENT_TOOL_CALL', agentId: call.agentId, ...(call.site ? { site: call.site } : {}) },
      ...(call.site ? { workflowId: call.site.workflowId, instanceId: call.site.instanceId } : {}),
      signal: call.signal,
    });
    if (record.status === 'completed') return record.output;
    const reason = record.error?.message ?? record.status;
    throw new Error(`function '${call.tool.name}' (execution ${record.id}) ${record.status}: ${reason}`);
  }
}
