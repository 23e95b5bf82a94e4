import type { Dialect, ErrorAnswer, Operation } from './dialect.js';
import { record } from './dialect.js';
import type { ResolvedReply } from './scenario.js';
import { words } from './scenario.js';

const doneReasons = { stop: 'stop', length: 'length', tool_calls: 'stop', content_filter: 'stop' } as const;
const createdAt = '2024-11-22T12:00:00.000000Z';

function finalFields(reply: ResolvedReply) {
  return {
    done: true,
    done_reason: doneReasons[reply.finish],
    total_duration: 1_200_000,
    load_duration: 100_000,
    prompt_eval_count: reply.usage.promptTokens,
    prompt_eval_duration: 200_000,
    eval_count: reply.usage.completionTokens,
    eval_duration: 900_000,
  };
}

function toolCalls(reply: ResolvedReply) {
  return reply.toolCalls.map((call) => ({ function: { name: call.name, arguments: JSON.parse(call.arguments) as unknown } }));
}

/** Ollama's native API (`/api/chat` NDJSON, `/api/embed`, `/api/tags`). */
export function ollamaDialect(): Dialect {
  return {
    route(method, path, _query, body): Operation | ErrorAnswer {
      if (method === 'POST' && path === '/api/chat')
        return { op: 'chat', stream: record(body)['stream'] !== false, model: String(record(body)['model'] ?? '') };
      if (method === 'POST' && path === '/api/embed') return { op: 'embed', model: String(record(body)['model'] ?? '') };
      if (method === 'GET' && path === '/api/tags') return { op: 'models' };
      return this.notFound(path);
    },
    checkAuth: () => undefined,
    error: (_status, message) => ({ error: message }),
    contextLengthError: () => ({ status: 400, body: { error: 'the input length exceeds the context length' } }),
    notFound: () => ({ status: 404, body: { error: '404 page not found' } }),
    chat(reply) {
      const message: Record<string, unknown> = { role: 'assistant', content: reply.text };
      if (reply.toolCalls.length > 0) message['tool_calls'] = toolCalls(reply);
      return { model: reply.model, created_at: createdAt, message, ...finalFields(reply) };
    },
    streamContentType: 'application/x-ndjson',
    streamFrames(reply) {
      const line = (value: unknown) => `${JSON.stringify(value)}\n`;
      const frames = words(reply.text).map((piece) =>
        line({ model: reply.model, created_at: createdAt, message: { role: 'assistant', content: piece }, done: false }),
      );
      if (reply.toolCalls.length > 0) {
        frames.push(
          line({
            model: reply.model,
            created_at: createdAt,
            message: { role: 'assistant', content: '', tool_calls: toolCalls(reply) },
            done: false,
          }),
        );
      }
      frames.push(line({ model: reply.model, created_at: createdAt, message: { role: 'assistant', content: '' }, ...finalFields(reply) }));
      return frames;
    },
    streamErrorFrames: () => ['{"error":"an error was encountered while running the model: unexpected EOF"}\n'],
    brokenFrame: () => '{"model":"broken","message":{"role":"assistant","content":\n',
    embedInputs(body) {
      const input = record(body)['input'];
      return Array.isArray(input) ? input.map(String) : [String(input ?? '')];
    },
    embed: (inputs, model, vectors) => ({
      model,
      embeddings: vectors,
      total_duration: 14_143_917,
      load_duration: 1_019_500,
      prompt_eval_count: inputs.reduce((sum, input) => sum + Math.ceil(input.length / 4), 0),
    }),
    models: (ids) => ({
      models: ids.map((name) => ({
        name: name.includes(':') ? name : `${name}:latest`,
        model: name.includes(':') ? name : `${name}:latest`,
        modified_at: createdAt,
        size: 2_019_393_189,
        digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
        details: {
          parent_model: '',
          format: 'gguf',
          family: 'llama',
          families: ['llama'],
          parameter_size: '3.2B',
          quantization_level: 'Q4_K_M',
        },
      })),
    }),
  };
}
