import { GatewayError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { UsageRecord } from '../../src/storage/usage-repository.js';

/** A clock for unit tests: it stands still until told to move. */
export function fakeClock(start: number) {
  const state = { now: start };
  return {
    now: () => state.now,
    set: (ms: number) => (state.now = ms),
    advance: (ms: number) => (state.now += ms),
  };
}

/** The `GatewayError` a promise rejects with; fails the test when it resolves or rejects with something else. */
export async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** The `GatewayError` a call throws; fails the test when it returns or throws something else. */
export function refusalOf(call: () => unknown): GatewayError {
  try {
    call();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** A ledger record with every usual field set; `overrides` for what a test is about. */
export function usageRecord(id: string, overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id,
    at: 1_700_000_000_000,
    requestId: `req_${id}`,
    endpoint: 'chat',
    keyId: 'key_0123456789abcdef',
    userId: 'alice',
    teamId: null,
    projectId: 'apollo',
    workflowId: null,
    instanceId: null,
    transitionId: null,
    agentId: null,
    provider: 'openai',
    requestedModel: 'gpt-4o',
    model: 'gpt-4o',
    deployment: 'gpt-4o-2024-08-06',
    promptTokens: 120,
    completionTokens: 30,
    cachedTokens: 20,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costUsd: 0.00123,
    latencyMs: 812,
    ttftMs: 210,
    status: 'ok',
    httpStatus: 200,
    errorCode: null,
    attempts: 1,
    stream: true,
    tags: ['nightly'],
    ...overrides,
  };
}

/** A logger that keeps its lines, for tests that check what was logged. */
export function recordingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> | undefined }[] = [];
  const logAt = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  const logger: Logger = { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') };
  return { logger, lines };
}
