import { isGatewayError } from '../core/errors.js';

/** Why an agent run failed, as recorded on its execution and published in `AGENT_FAILED`. */
export const AgentErrorCode = {
  /** A `{placeholder}` had no value in the token data, metadata or variables. */
  templateVariableMissing: 'template_variable_missing',
  /** The answer did not match the output schema (after every attempt). */
  outputInvalid: 'agent_output_invalid',
  /** An attempt took longer than the agent's `timeoutMs`. */
  timeout: 'agent_timeout',
  /** The run was cancelled (the instance was cancelled or the server is stopping). */
  cancelled: 'agent_cancelled',
  /** The agent named in an action or pipeline is not defined. */
  unknownAgent: 'agent_not_found',
} as const;
export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

/** A failure of an agent run that is not the router's own (those stay `GatewayError`s). */
export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly isRetryable: boolean;

  constructor(code: AgentErrorCode, message: string, options: { isRetryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.isRetryable = options.isRetryable ?? false;
  }
}

/** The code and message an execution records for a failure. */
export function failureOf(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof AgentError) return { code: error.code, message: error.message, retryable: error.isRetryable };
  if (isGatewayError(error)) return { code: error.code, message: error.message, retryable: error.isRetryable };
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error), retryable: false };
}
