import type { ChatMessage, ChatRequest } from '../../core/chat.js';
import { contentText } from '../../core/chat.js';
import { ErrorCode, invalidRequest } from '../../core/errors.js';

const handled = new Set([
  'model',
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'functions',
  'function_call',
  'response_format',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'n',
  'seed',
  'user',
  'presence_penalty',
  'frequency_penalty',
  'stream',
  'stream_options',
  'logprobs',
  'top_logprobs',
]);

/** OpenAI chat request → Ollama `/api/chat` body (its native API). */
export function toOllamaRequest(
  request: ChatRequest,
  upstreamModel: string,
  stream: boolean,
): { body: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = [];
  if ((request.n ?? 1) > 1)
    throw invalidRequest('Ollama returns one choice per request: `n` must be 1.', 'n', ErrorCode.unsupportedParameter);
  const toolNames = new Map<string, string>();
  const messages = request.messages.map((message, index) => convertMessage(message, index, toolNames));
  const body: Record<string, unknown> = { model: upstreamModel, messages, stream };
  const tools = request.tools ?? request.functions?.map((fn) => ({ type: 'function' as const, function: fn }));
  if (tools && tools.length > 0 && request.tool_choice !== 'none') body['tools'] = tools;
  if (request.tool_choice !== undefined && request.tool_choice !== 'auto' && request.tool_choice !== 'none') {
    warnings.push('tool_choice other than auto or none is not supported by Ollama and was dropped (the model decides)');
  }
  if (request.response_format?.type === 'json_object') body['format'] = 'json';
  if (request.response_format?.type === 'json_schema') body['format'] = request.response_format.json_schema.schema ?? 'json';
  const options: Record<string, unknown> = {};
  if (request.temperature != null) options['temperature'] = request.temperature;
  if (request.top_p != null) options['top_p'] = request.top_p;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) options['num_predict'] = maxTokens;
  if (request.stop != null) options['stop'] = Array.isArray(request.stop) ? request.stop : [request.stop];
  if (request.seed != null) options['seed'] = request.seed;
  if (request.presence_penalty != null) options['presence_penalty'] = request.presence_penalty;
  if (request.frequency_penalty != null) options['frequency_penalty'] = request.frequency_penalty;
  if (Object.keys(options).length > 0) body['options'] = options;
  if (request.logprobs) warnings.push('logprobs is not supported by Ollama and was dropped');
  for (const field of Object.keys(request)) if (!handled.has(field)) warnings.push(`${field} is not supported by Ollama and was dropped`);
  return { body, warnings };
}

function convertMessage(message: ChatMessage, index: number, toolNames: Map<string, string>): Record<string, unknown> {
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: contentText(message.content) };
    case 'user': {
      if (typeof message.content === 'string') return { role: 'user', content: message.content };
      const images: string[] = [];
      message.content.forEach((part, position) => {
        if (part.type === 'text') return;
        if (part.type !== 'image_url') {
          throw invalidRequest(
            `Content parts of type '${part.type}' cannot be sent to Ollama; use text or image_url.`,
            `messages[${index}].content[${position}].type`,
            ErrorCode.unsupportedParameter,
          );
        }
        const url = (part as { image_url: { url: string } }).image_url.url;
        const data = /^data:[^;,]+;base64,(.*)$/s.exec(url);
        if (!data) {
          throw invalidRequest(
            'Ollama needs images inline: send them as base64 data: URLs, not links.',
            `messages[${index}].content[${position}].image_url.url`,
            ErrorCode.unsupportedParameter,
          );
        }
        images.push(data[1] ?? '');
      });
      return { role: 'user', content: contentText(message.content), ...(images.length > 0 ? { images } : {}) };
    }
    case 'assistant': {
      const result: Record<string, unknown> = { role: 'assistant', content: contentText(message.content) };
      const calls = message.tool_calls ?? [];
      if (calls.length > 0) {
        result['tool_calls'] = calls.map((call) => {
          toolNames.set(call.id, call.function.name);
          return { function: { name: call.function.name, arguments: parseArguments(call.function.arguments, index) } };
        });
      }
      return result;
    }
    case 'tool': {
      const name = toolNames.get(message.tool_call_id);
      return { role: 'tool', content: contentText(message.content), ...(name ? { tool_name: name } : {}) };
    }
    case 'function':
      return { role: 'tool', content: message.content ?? '', tool_name: message.name };
  }
}

function parseArguments(text: string, index: number): unknown {
  try {
    return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    throw invalidRequest('Tool call arguments must be a JSON object string.', `messages[${index}].tool_calls`);
  }
}
