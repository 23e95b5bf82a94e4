/** A stored agent definition: the definition as the user wrote it (JSON), and its version. */
export interface AgentDefinitionRecord {
  id: string;
  /** Starts at 1; every save of a changed definition adds 1. */
  version: number;
  /** The definition as given (checked by `parseAgentDefinition` before it is stored). */
  definition: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export type AgentExecutionStatus = 'running' | 'completed' | 'failed' | 'timed_out' | 'cancelled';

/** What an agent produced: its text, the parsed JSON when it has an output schema, and tool calls. */
export interface AgentOutput {
  text: string;
  /** The validated structured answer (agents with an output schema). */
  json?: unknown;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: string | null;
}

/** One run of an agent (all its attempts): what went in, what came out, what it cost. */
export interface AgentExecutionRecord {
  /** Stable per firing and agent (`agx_…`), so a repeated action finds the first run. */
  id: string;
  agentId: string;
  workflowId: string | null;
  instanceId: string | null;
  transitionId: string | null;
  placeId: string | null;
  firingId: string | null;
  status: AgentExecutionStatus;
  /** The rendered prompts and the model asked for. */
  input: { system: string | null; user: string; model: string };
  output: AgentOutput | null;
  error: { code: string; message: string } | null;
  /** The model the agent names; `model`/`provider` are what served the last attempt. */
  requestedModel: string;
  provider: string | null;
  model: string | null;
  /** Summed over every attempt (each one was billed). */
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
  durationMs: number;
  attempts: number;
  startedAt: number;
  finishedAt: number | null;
}

export interface AgentExecutionFilter {
  agentId?: string;
  workflowId?: string;
  instanceId?: string;
  status?: AgentExecutionStatus;
  /** At most this many, newest first (default 100). */
  limit?: number;
}

/**
 * Agent definitions and executions. Every backend passes `test/contract/agent-store.contract.ts`.
 */
export interface AgentRepository {
  /**
   * Stores a definition: a new id gets version 1, a changed definition the next version, an unchanged
   * one keeps its version. Returns what is stored.
   */
  saveDefinition(id: string, definition: Record<string, unknown>, now: number): Promise<AgentDefinitionRecord>;
  getDefinition(id: string): Promise<AgentDefinitionRecord | undefined>;
  /** Ordered by id. */
  listDefinitions(): Promise<AgentDefinitionRecord[]>;
  deleteDefinition(id: string): Promise<boolean>;
  /** Inserts or replaces the execution with this id. */
  saveExecution(execution: AgentExecutionRecord): Promise<void>;
  getExecution(id: string): Promise<AgentExecutionRecord | undefined>;
  /** Newest first (by start, then id). */
  listExecutions(filter: AgentExecutionFilter): Promise<AgentExecutionRecord[]>;
}
