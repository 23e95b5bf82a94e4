import type { ChatRequest } from '../core/chat.js';
import type { StreamPart } from '../core/stream-part.js';
import type { ModelChoice } from './agent-definition.js';

/** Who an agent call belongs to: the ids every usage record of the call carries. */
export interface AgentAttribution {
  workflowId?: string;
  instanceId?: string;
  transitionId?: string;
  agentId: string;
}

/** One model call of an agent. */
export interface AgentModelCall {
  /** The chat request (`model` is `choice.model`; `stream` is set). */
  request: ChatRequest;
  choice: ModelChoice;
  attribution: AgentAttribution;
  /** Unique per attempt, for logs and the ledger. */
  requestId: string;
  signal: AbortSignal;
}

/** What served a call, known once the stream has ended (or failed). */
export interface ServedBy {
  provider: string | undefined;
  model: string | undefined;
  /** USD of the call; undefined when the model's price is unknown. */
  costUsd: number | undefined;
}

/** A streaming answer: decoded parts (never `raw-chunks`), then who served it. */
export interface AgentModelStream {
  parts: AsyncIterable<StreamPart>;
  served(): ServedBy;
}

/**
 * How agents reach models. The app implements it over the completion service (the router in-process:
 * same routing, failover, budgets and usage ledger as any client, endpoint `agent`), so agents never
 * import routing or providers. Errors are the gateway's (`GatewayError.isRetryable` says whether another
 * try may succeed).
 */
export interface AgentModelPort {
  stream(call: AgentModelCall): Promise<AgentModelStream>;
}
