import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelName, startFleet, totalRequests } from './support/provider-fleet.js';
import type { Fleet } from './support/provider-fleet.js';

/**
 * Malformed, oversized and hostile requests: each gets a clear 4xx in OpenAI's error shape that says
 * what to fix, none reaches a provider, and the server keeps serving.
 */
let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ CB_BODY_LIMIT: '20000' });
}, 60_000);
afterAll(async () => {
  await fleet?.stop();
});

interface Case {
  name: string;
  body: string | object;
  contentType?: string;
  path?: string;
  status: number;
  code?: string;
  param?: string | null;
  message: RegExp;
}

const messages = [{ role: 'user', content: 'hi' }];
const cases: Case[] = [
  { name: 'malformed JSON', body: '{"model": "gpt-4o", "messages": [', status: 400, code: 'invalid_json', message: /not valid JSON/ },
  { name: 'empty body', body: '', status: 400, code: 'invalid_json', message: /empty/ },
  { name: 'a JSON array', body: '[1,2]', status: 400, message: /JSON object/ },
  { name: 'a JSON string', body: '"hello"', status: 400, message: /JSON object/ },
  {
    name: 'not JSON content type',
    body: 'model=gpt-4o',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    code: 'unsupported_media_type',
    message: /application\/json/,
  },
  { name: 'missing model', body: { messages }, status: 400, param: 'model', message: /model/ },
  { name: 'model of the wrong type', body: { model: 42, messages }, status: 400, param: 'model', message: /model/ },
  { name: 'missing messages', body: { model: 'gpt-4o' }, status: 400, param: 'messages', message: /messages/ },
  { name: 'empty messages', body: { model: 'gpt-4o', messages: [] }, status: 400, param: 'messages', message: /at least one message/ },
  {
    name: 'message without role',
    body: { model: 'gpt-4o', messages: [{ content: 'x' }] },
    status: 400,
    param: 'messages[0].role',
    message: /role/,
  },
  {
    name: 'unknown role',
    body: { model: 'gpt-4o', messages: [{ role: 'wizard', content: 'x' }] },
    status: 400,
    param: 'messages[0].role',
    message: /role/,
  },
  {
    name: 'content of the wrong type',
    body: { model: 'gpt-4o', messages: [{ role: 'user', content: 7 }] },
    status: 400,
    param: 'messages[0].content',
    message: /string/,
  },
  {
    name: 'tool message without tool_call_id',
    body: { model: 'gpt-4o', messages: [{ role: 'tool', content: 'x' }] },
    status: 400,
    param: 'messages[0].tool_call_id',
    message: /tool_call_id|expected string/,
  },
  {
    name: 'temperature out of range',
    body: { model: 'gpt-4o', messages, temperature: 5 },
    status: 400,
    param: 'temperature',
    message: /2/,
  },
  { name: 'negative max_tokens', body: { model: 'gpt-4o', messages, max_tokens: -1 }, status: 400, param: 'max_tokens', message: /.+/ },
  {
    name: 'bad tool name',
    body: { model: 'gpt-4o', messages, tools: [{ type: 'function', function: { name: 'has spaces!' } }] },
    status: 400,
    param: 'tools[0].function.name',
    message: /function name/,
  },
  {
    name: 'bad response_format',
    body: { model: 'gpt-4o', messages, response_format: { type: 'xml' } },
    status: 400,
    param: 'response_format.type',
    message: /json_schema/,
  },
  {
    name: 'prototype poisoning',
    body: '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"__proto__":{"admin":true}}',
    status: 400,
    message: /.+/,
  },
  {
    name: 'unknown model',
    body: { model: 'gpt-4o-mimi', messages },
    status: 404,
    code: 'model_not_found',
    param: 'model',
    message: /Did you mean 'gpt-4o-mini'/,
  },
  {
    name: 'unknown provider prefix',
    body: { model: 'nosuch/gpt-4o', messages },
    status: 404,
    code: 'model_not_found',
    message: /does not exist/,
  },
  {
    name: 'an embedding model for chat',
    body: { model: 'openai/text-embedding-3-small', messages },
    status: 400,
    param: 'model',
    message: /embedding model/,
  },
  {
    name: 'n > 1 to Anthropic',
    body: { model: 'anthropic/claude-3-5-sonnet-latest', messages, n: 2 },
    status: 400,
    code: 'unsupported_parameter',
    message: /\bn\b/,
  },
  {
    name: 'oversized body',
    body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(30_000) }] },
    status: 413,
    code: 'body_too_large',
    message: /larger/,
  },
  {
    name: 'embeddings without input',
    path: '/v1/embeddings',
    body: { model: 'text-embedding-3-small' },
    status: 400,
    param: 'input',
    message: /input/,
  },
  {
    name: 'embeddings with a chat-only provider',
    path: '/v1/embeddings',
    body: { model: 'anthropic/claude-3-5-sonnet-latest', input: 'x' },
    status: 400,
    code: 'unsupported_parameter',
    message: /cannot embed/,
  },
  { name: 'unknown route', path: '/v1/nothing-here', body: {}, status: 404, code: 'not_found', message: /no route/ },
];

describe('bad input never reaches a provider', () => {
  it.each(cases)('$name → $status', async (testCase) => {
    const before = totalRequests(fleet);
    const response = await fetch(`${fleet.gateway.url}${testCase.path ?? '/v1/chat/completions'}`, {
      method: 'POST',
      headers: { 'content-type': testCase.contentType ?? 'application/json' },
      body: typeof testCase.body === 'string' ? testCase.body : JSON.stringify(testCase.body),
    });
    const body = (await response.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
    expect(response.status, JSON.stringify(body)).toBe(testCase.status);
    expect(body.error.message).toMatch(testCase.message);
    expect(typeof body.error.type).toBe('string');
    if (testCase.code) expect(body.error.code).toBe(testCase.code);
    if (testCase.param !== undefined) expect(body.error.param).toBe(testCase.param);
    expect(totalRequests(fleet)).toBe(before);
  });

  it('streams get the same JSON errors before any byte is sent', async () => {
    const response = await fetch(`${fleet.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mimi', messages, stream: true }),
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/json');
  });

  it('is still healthy and serving afterwards', async () => {
    expect((await fetch(`${fleet.gateway.url}/health`)).status).toBe(200);
    fleet.emulators['openai']!.enqueue({ text: 'still here' });
    const response = await fetch(`${fleet.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: modelName(fleet.cases[0]!), messages }),
    });
    expect(response.status).toBe(200);
    expect(fleet.gateway.process.exitCode).toBeNull();
  });
});
