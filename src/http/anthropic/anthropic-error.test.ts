import { describe, expect, it } from 'vitest';
import { ErrorCode, GatewayError, ProviderError, invalidRequest } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { anthropicError } from './anthropic-error.js';

describe('anthropicError', () => {
  it.each([
    [invalidRequest('`temperature` must be at most 1.', 'temperature'), 400, 'invalid_request_error'],
    [new GatewayError(ErrorCode.authentication, 'No key.', { status: 401 }), 401, 'authentication_error'],
    [new GatewayError(ErrorCode.budgetExhausted, 'Budget spent.', { status: 402 }), 402, 'billing_error'],
    [new GatewayError(ErrorCode.permission, 'Not this model.', { status: 403 }), 403, 'permission_error'],
    [new GatewayError(ErrorCode.unknownModel, 'No model x.', { status: 404 }), 404, 'not_found_error'],
    [new GatewayError(ErrorCode.rateLimited, 'Slow down.', { status: 429, retryAfterMs: 2_000 }), 429, 'rate_limit_error'],
    [new ProviderError(ErrorCode.upstreamError, 'Upstream broke.', { status: 502, provider: 'openai' }), 502, 'api_error'],
    [new GatewayError(ErrorCode.noProvider, 'All cooling down.', { status: 503 }), 529, 'overloaded_error'],
    [new ProviderError(ErrorCode.upstreamTimeout, 'Too slow.', { status: 504, provider: 'openai' }), 504, 'timeout_error'],
    [new Error('a bug'), 500, 'api_error'],
  ])('maps %s to %i %s, with request_id and request-id', (error, status, type) => {
    const mapped = anthropicError(error, 'req_1', silentLogger);
    expect(mapped.status).toBe(status);
    expect(mapped.body).toEqual({ type: 'error', error: { type, message: expect.any(String) }, request_id: 'req_1' });
    expect(mapped.headers['request-id']).toBe('req_1');
  });

  it('keeps the gateway headers and names the field at fault in the message', () => {
    expect(
      anthropicError(new GatewayError(ErrorCode.rateLimited, 'Slow down.', { status: 429, retryAfterMs: 2_000 }), 'r', silentLogger)
        .headers,
    ).toMatchObject({
      'retry-after': '2',
    });
    expect(anthropicError(invalidRequest('must be at most 1', 'temperature'), 'r', silentLogger).body.error.message).toBe(
      'temperature: must be at most 1',
    );
    expect(anthropicError(invalidRequest('Invalid `temperature`: too big', 'temperature'), 'r', silentLogger).body.error.message).toBe(
      'Invalid `temperature`: too big',
    );
  });
});
