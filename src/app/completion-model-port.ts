import type { AgentModelCall, AgentModelPort, AgentModelStream, ServedBy } from '../agents/agent-model-port.js';
import type { Principal } from '../core/principal.js';
import { anonymousPrincipal } from '../core/principal.js';
import type { StreamPart } from '../core/stream-part.js';
import { OpenAIChunkDecoder } from '../providers/shared/openai-chunk-parts.js';
import type { RouteOptions } from '../routing/route-options.js';
import type { CompletionService } from './completion-service.js';

/**
 * The agents' model port over the completion service: agent calls take the same path as a client's —
 * routing, failover, budgets, cost rules, the usage ledger — with endpoint `agent` and the workflow,
 * instance, transition and agent ids on the ledger record. `principal` is who agent calls run as
 * (default: the gateway itself, unscoped; the workflow service may pass the key that started the instance).
 */
export class CompletionModelPort implements AgentModelPort {
  constructor(
    private readonly completions: CompletionService,
    private readonly principal: Principal = { ...anonymousPrincipal, kind: 'admin', name: 'workflow agents' },
  ) {}

  async stream(call: AgentModelCall): Promise<AgentModelStream> {
    const route: RouteOptions = call.choice.strategy ? { circuit_breaker: { routing_strategy: call.choice.strategy } } : {};
    const opened = await this.completions.stream(call.request, {
      requestId: call.requestId,
      principal: this.principal,
      attribution: {
        agentId: call.attribution.agentId,
        ...(call.attribution.workflowId === undefined ? {} : { workflowId: call.attribution.workflowId }),
        ...(call.attribution.instanceId === undefined ? {} : { instanceId: call.attribution.instanceId }),
        ...(call.attribution.transitionId === undefined ? {} : { transitionId: call.attribution.transitionId }),
      },
      signal: call.signal,
      route,
      endpoint: 'agent',
    });
    const served = (): ServedBy => ({
      provider: opened.dispatch.deployment?.provider,
      model: opened.dispatch.deployment?.model.id,
      costUsd: opened.metering.costUsd,
    });
    return { parts: decoded(opened.stream, () => opened.dispatch.deployment?.provider ?? 'upstream'), served };
  }
}

/** OpenAI-dialect upstreams hand their chunks over as `raw-chunks`; agents read structured parts. */
async function* decoded(stream: AsyncIterable<StreamPart>, provider: () => string): AsyncGenerator<StreamPart> {
  let decoder: OpenAIChunkDecoder | undefined;
  for await (const part of stream) {
    if (part.type !== 'raw-chunks') {
      yield part;
      continue;
    }
    decoder ??= new OpenAIChunkDecoder(provider());
    for (const json of part.chunks) yield* decoder.decode(json);
  }
}
