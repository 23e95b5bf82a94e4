import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids, from a pool refilled 4 KiB at a time: one `getrandom` per ~200 ids instead of one
 * per id (the same trick `randomUUID` uses). For identifiers only — secrets use `randomBytes` directly.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomId(size: number, encoding: 'base64url' | 'hex' = 'base64url'): string {
  if (poolOffset + size > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const text = pool.toString(encoding, poolOffset, poolOffset + size);
  poolOffset += size;
  return text;
}

/** A request id for logs and the `x-request-id` header: `req_` and 32 random hex characters. */
export function newRequestId(): string {
  return `req_${randomId(16, 'hex')}`;
}

/** An OpenAI-style completion id (`chatcmpl-` and 24 random url-safe characters). */
export function newCompletionId(): string {
  return `chatcmpl-${randomId(18)}`;
}

/** A tool-call id in OpenAI's style, for providers that do not give one. */
export function newToolCallId(): string {
  return `call_${randomId(18)}`;
}

/** An Anthropic-style message id (`msg_` and 24 random url-safe characters), for the Messages API front door. */
export function newMessageId(): string {
  return `msg_${randomId(18)}`;
}

/** An Anthropic-style tool-use id, for a tool call whose provider gave none. */
export function newToolUseId(): string {
  return `toolu_${randomId(18)}`;
}
