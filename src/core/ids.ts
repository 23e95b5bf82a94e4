import { randomBytes, randomUUID } from 'node:crypto';

/** A request id for logs and the `x-request-id` header. */
export function newRequestId(): string {
  return `req_${randomUUID().replaceAll('-', '')}`;
}

/** An OpenAI-style completion id (`chatcmpl-` and 24 random url-safe characters). */
export function newCompletionId(): string {
  return `chatcmpl-${randomBytes(18).toString('base64url')}`;
}

/** A tool-call id in OpenAI's style, for providers that do not give one. */
export function newToolCallId(): string {
  return `call_${randomBytes(18).toString('base64url')}`;
}

/** An Anthropic-style message id (`msg_` and 24 random url-safe characters), for the Messages API front door. */
export function newMessageId(): string {
  return `msg_${randomBytes(18).toString('base64url')}`;
}

/** An Anthropic-style tool-use id, for a tool call whose provider gave none. */
export function newToolUseId(): string {
  return `toolu_${randomBytes(18).toString('base64url')}`;
}
