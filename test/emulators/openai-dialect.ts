import type { Dialect, ErrorAnswer, Operation } from './dialect.js';
import { record } from './dialect.js';
import type { ResolvedReply } from './scenario.js';
import { fragments, words } from './scenario.js';

const created = 1_732_000_000;

function usageOf(reply: ResolvedReply): Record<string, unknown> {
  return {
    prompt_tokens: reply.usage.promptTokens,
    completion_tokens: reply.usage.completionTokens,
    total_tokens: reply.usage.promptTokens + reply.usage.completionTokens,
    prompt_tokens_details: { cached_tokens: reply.usage.cachedTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reply.usage.reasoningTokens ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function choicesCount(body: unknown): number {
  const n = record(body)['n'];
  return typeof n === 'number' && n > 1 ? n : 1;
}

/** OpenAI's Chat Completions wire format; with `azure: true`, Azure OpenAI's paths, auth and quirks. */
export function openAIDialect(azure: boolean): Dialect {
  const id = `chatcmpl-${Math.random().toString(36).slice(2, 14)}`;
  const error = (
    status: number,
    message: string,
    code: string | null = null,
    type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
  ) => ({
    error: { message, type, param: null, code },
  });
  return {
    route(method, path, query, body): Operation | ErrorAnswer {
      const model = String(record(body)['model'] ?? '');
      if (azure) {
        if (!query['api-version']) return { status: 404, body: { error: { code: '404', message: 'Resource not found' } } };
        const match = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(path);
        if (method === 'POST' && match) {
          const deployment = decodeURIComponent(match[1] ?? '');
          return match[2] === 'embeddings'
            ? { op: 'embed', model: deployment }
            : { op: 'chat', stream: record(body)['stream'] === true, model: deployment };
        }
        if (method === 'GET' && path === '/openai/models') return { op: 'models' };
        return this.notFound(path);
      }
      if (method === 'POST' && path === '/v1/chat/completions') return { op: 'chat', stream: record(body)['stream'] === true, model };
      if (method === 'POST' && path === '/v1/embeddings') return { op: 'embed', model };
      if (method === 'GET' && path === '/v1/models') return { op: 'models' };
      return this.notFound(path);
    },
    checkAuth(headers, _query, apiKey) {
      const presented = azure ? headers['api-key'] : /^Bearer (.+)$/.exec(headers['authorization'] ?? '')?.[1];
      if (presented === apiKey) return undefined;
      if (azure) {
        return {
          status: 401,
          body: {
            error: {
              code: '401',
              message:
                'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
            },
          },
        };
      }
      return {
        status: 401,
        body: error(
          401,
          'Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys.',
          'invalid_api_key',
        ),
      };
    },
    error: (status, message) => error(status, message, status === 429 ? 'rate_limit_exceeded' : null),
    contextLengthError: () => ({
      status: 400,
      body: error(
        400,
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 190000 tokens. Please reduce the length of the messages.",
        'context_length_exceeded',
      ),
    }),
    notFound: (path) => ({ status: 404, body: error(404, `Invalid URL (POST ${path})`) }),
    chat(reply, body) {
      const choices = Array.from({ length: choicesCount(body) }, (_, index) => ({
        index,
        message: {
          role: 'assistant',
          content: reply.text === '' && reply.toolCalls.length > 0 ? null : reply.text,
          refusal: null,
          ...(reply.toolCalls.length > 0
            ? {
                tool_calls: reply.toolCalls.map((call) => ({
                  id: call.id,
                  type: 'function',
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
          annotations: [],
        },
        logprobs: null,
        finish_reason: reply.finish,
      }));
      return {
        id,
        object: 'chat.completion',
        created,
        model: reply.model,
        choices,
        usage: usageOf(reply),
        service_tier: 'default',
        system_fingerprint: 'fp_emulator',
      };
    },
    streamContentType: 'text/event-stream; charset=utf-8',
    streamFrames(reply, body) {
      const includeUsage = record(record(body)['stream_options'])['include_usage'] === true;
      const frame = (choices: unknown[], extra: Record<string, unknown> = {}) =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: reply.model, service_tier: 'default', system_fingerprint: 'fp_emulator', choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`;
      const frames: string[] = [];
      if (azure)
        frames.push(
          `data: ${JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] })}\n\n`,
        );
      for (let choice = 0; choice < choicesCount(body); choice++) {
        frames.push(
          frame([{ index: choice, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]),
        );
        for (const piece of words(reply.text))
          frames.push(frame([{ index: choice, delta: { content: piece }, logprobs: null, finish_reason: null }]));
        reply.toolCalls.forEach((call, index) => {
          frames.push(
            frame([
              {
                index: choice,
                delta: { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] },
                logprobs: null,
                finish_reason: null,
              },
            ]),
          );
          for (const piece of fragments(call.arguments)) {
            frames.push(
              frame([
                { index: choice, delta: { tool_calls: [{ index, function: { arguments: piece } }] }, logprobs: null, finish_reason: null },
              ]),
            );
          }
        });
        frames.push(frame([{ index: choice, delta: {}, logprobs: null, finish_reason: reply.finish }]));
      }
      if (includeUsage) frames.push(frame([], { usage: usageOf(reply) }));
      frames.push('data: [DONE]\n\n');
      return frames;
    },
    streamErrorFrames: () => [
      `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } })}\n\n`,
    ],
    brokenFrame: () => 'data: {"id":"chatcmpl-broken","choices":[{"delta":{"content":"oops"\n\n',
    embedInputs(body) {
      const input = record(body)['input'];
      return Array.isArray(input) ? input.map(String) : [String(input ?? '')];
    },
    embed(inputs, model, vectors, body) {
      const tokens = inputs.reduce((sum, input) => sum + Math.ceil(input.length / 4), 0);
      // The openai SDK asks for base64 by default: little-endian float32s, as the API sends them.
      const base64 = record(body)['encoding_format'] === 'base64';
      return {
        object: 'list',
        data: vectors.map((embedding, index) => ({
          object: 'embedding',
          index,
          embedding: base64 ? Buffer.from(new Float32Array(embedding).buffer).toString('base64') : embedding,
        })),
        model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    },
    models: (ids) => ({
      object: 'list',
      data: ids.map((model) => ({ id: model, object: 'model', created, owned_by: azure ? 'system' : 'openai' })),
    }),
  };
}
