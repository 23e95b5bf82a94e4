import type { Dialect, ErrorAnswer, Operation } from './dialect.js';
import { record } from './dialect.js';
import type { ResolvedReply } from './scenario.js';
import { fragments, words } from './scenario.js';

const stopReasons = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' } as const;

function errorBody(type: string, message: string) {
  return { type: 'error', error: { type, message }, request_id: 'req_emulator' };
}

function errorType(status: number): string {
  if (status === 400) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 529) return 'overloaded_error';
  return 'api_error';
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify({ type: event, ...(data as object) })}\n\n`;
}

/**
 * With `tool_choice: {type: "tool", name}` the real API always answers with a `tool_use` block of that
 * tool (a gateway's json_schema goes this way): a scripted JSON text becomes that block's input.
 */
function forcedTool(reply: ResolvedReply, body: unknown): ResolvedReply {
  const choice = record(record(body)['tool_choice']);
  if (choice['type'] !== 'tool' || typeof choice['name'] !== 'string' || reply.toolCalls.length > 0) return reply;
  let input: unknown;
  try {
    input = JSON.parse(reply.text);
  } catch {
    return reply;
  }
  const call = { id: `toolu_forced_${Math.random().toString(36).slice(2, 10)}`, name: choice['name'], arguments: JSON.stringify(input) };
  return { ...reply, text: '', toolCalls: [call], finish: 'tool_calls' };
}

/** Anthropic's Messages API wire format. */
export function anthropicDialect(): Dialect {
  const id = `msg_${Math.random().toString(36).slice(2, 14)}`;
  return {
    route(method, path, _query, body): Operation | ErrorAnswer {
      if (method === 'POST' && path === '/v1/messages') {
        // As the real API: max_tokens is required.
        if (record(body)['max_tokens'] === undefined)
          return { status: 400, body: errorBody('invalid_request_error', 'max_tokens: Field required') };
        return { op: 'chat', stream: record(body)['stream'] === true, model: String(record(body)['model'] ?? '') };
      }
      if (method === 'GET' && path === '/v1/models') return { op: 'models' };
      return this.notFound(path);
    },
    checkAuth(headers, _query, apiKey) {
      // API keys travel as `x-api-key`; newer SDKs send them as `Authorization: Bearer` instead.
      const presented = headers['x-api-key'] ?? /^Bearer (.+)$/.exec(headers['authorization'] ?? '')?.[1];
      if (presented !== apiKey) return { status: 401, body: errorBody('authentication_error', 'invalid x-api-key') };
      if (!headers['anthropic-version'])
        return { status: 400, body: errorBody('invalid_request_error', 'anthropic-version: header is required') };
      return undefined;
    },
    error: (status, message) => errorBody(errorType(status), message),
    contextLengthError: () => ({
      status: 400,
      body: errorBody('invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum'),
    }),
    notFound: (path) => ({ status: 404, body: errorBody('not_found_error', `Not found: ${path}`) }),
    chat(scripted, body) {
      const reply = forcedTool(scripted, body);
      const content: unknown[] = [];
      if (reply.text) content.push({ type: 'text', text: reply.text });
      for (const call of reply.toolCalls)
        content.push({ type: 'tool_use', id: call.id, name: call.name, input: JSON.parse(call.arguments) as unknown });
      return {
        id,
        type: 'message',
        role: 'assistant',
        model: reply.model,
        content,
        stop_reason: stopReasons[reply.finish],
        stop_sequence: null,
        usage: {
          input_tokens: reply.usage.promptTokens - (reply.usage.cachedTokens ?? 0),
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: reply.usage.cachedTokens ?? 0,
          output_tokens: reply.usage.completionTokens,
        },
      };
    },
    streamContentType: 'text/event-stream; charset=utf-8',
    streamFrames(scripted, body) {
      const reply = forcedTool(scripted, body);
      const frames = [
        sse('message_start', {
          message: {
            id,
            type: 'message',
            role: 'assistant',
            model: reply.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: {
              input_tokens: reply.usage.promptTokens - (reply.usage.cachedTokens ?? 0),
              cache_creation_input_tokens: 0,
              cache_read_input_tokens: reply.usage.cachedTokens ?? 0,
              output_tokens: 1,
            },
          },
        }),
      ];
      let block = 0;
      if (reply.text) {
        frames.push(sse('content_block_start', { index: block, content_block: { type: 'text', text: '' } }));
        frames.push(sse('ping', {}));
        for (const piece of words(reply.text))
          frames.push(sse('content_block_delta', { index: block, delta: { type: 'text_delta', text: piece } }));
        frames.push(sse('content_block_stop', { index: block }));
        block++;
      }
      for (const call of reply.toolCalls) {
        frames.push(
          sse('content_block_start', { index: block, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } }),
        );
        frames.push(sse('content_block_delta', { index: block, delta: { type: 'input_json_delta', partial_json: '' } }));
        for (const piece of fragments(call.arguments))
          frames.push(sse('content_block_delta', { index: block, delta: { type: 'input_json_delta', partial_json: piece } }));
        frames.push(sse('content_block_stop', { index: block }));
        block++;
      }
      frames.push(
        sse('message_delta', {
          delta: { stop_reason: stopReasons[reply.finish], stop_sequence: null },
          usage: { output_tokens: reply.usage.completionTokens },
        }),
      );
      frames.push(sse('message_stop', {}));
      return frames;
    },
    streamErrorFrames: () => [`event: error\ndata: ${JSON.stringify(errorBody('overloaded_error', 'Overloaded'))}\n\n`],
    brokenFrame: () => 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\n\n',
    embedInputs: () => [],
    embed: () => ({}),
    models: (ids) => ({
      data: ids.map((model) => ({ type: 'model', id: model, display_name: model, created_at: '2024-10-22T00:00:00Z' })),
      has_more: false,
      first_id: ids[0] ?? null,
      last_id: ids.at(-1) ?? null,
    }),
  };
}
