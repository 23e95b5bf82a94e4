import type { ChatMessage, ChatRequest, ContentPart, TextPart, ToolDefinition } from '../../core/chat.js';
import { ErrorCode, invalidRequest } from '../../core/errors.js';

/** The name of the tool used to obtain `response_format: json_schema` output from Claude. */
export const jsonSchemaToolName = 'json_response';

export interface AnthropicRequestPlan {
  body: Record<string, unknown>;
  warnings: string[];
  /** True when the answer's tool call is really the structured JSON output to return as text. */
  jsonViaTool: boolean;
}

type Block = Record<string, unknown>;
interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: Block[];
}

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
  'logprobs',
  'top_logprobs',
  'presence_penalty',
  'frequency_penalty',
  'stream',
  'stream_options',
  'metadata',
  'store',
  'service_tier',
]);

/**
 * OpenAI chat request → Anthropic Messages body. Every system and developer message is kept (in order,
 * as `system` text blocks); consecutive same-role turns are merged, as Anthropic requires alternation;
 * tool results become `tool_result` blocks of a user turn.
 */
export function toAnthropicRequest(
  request: ChatRequest,
  upstreamModel: string,
  stream: boolean,
  defaultMaxTokens: number,
): AnthropicRequestPlan {
  const warnings: string[] = [];
  if ((request.n ?? 1) > 1) {
    throw invalidRequest(
      'Anthropic models return one choice per request: `n` must be 1 (send several requests instead).',
      'n',
      ErrorCode.unsupportedParameter,
    );
  }
  const system: Block[] = [];
  const messages: AnthropicMessage[] = [];
  const push = (role: 'user' | 'assistant', blocks: Block[]): void => {
    const last = messages.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  request.messages.forEach((message, index) => convertMessage(message, index, system, push));
  if (messages.length === 0)
    throw invalidRequest('Anthropic needs at least one user or assistant message besides the system prompt.', 'messages');
  if (messages[0]?.role === 'assistant') messages.unshift({ role: 'user', content: [{ type: 'text', text: '.' }] });

  const body: Record<string, unknown> = {
    model: upstreamModel,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? defaultMaxTokens,
    messages,
  };
  if (stream) body['stream'] = true;
  if (request.temperature != null) body['temperature'] = Math.min(request.temperature, 1);
  if (request.temperature != null && request.temperature > 1)
    warnings.push(`temperature ${request.temperature} was capped at 1, Anthropic's maximum`);
  if (request.top_p != null) body['top_p'] = request.top_p;
  if (request.stop != null) body['stop_sequences'] = Array.isArray(request.stop) ? request.stop : [request.stop];
  if (request.user) body['metadata'] = { user_id: request.user };

  const tools = toolsOf(request);
  let jsonViaTool = false;
  if (tools.length > 0) body['tools'] = tools.map(convertTool);
  const choice = toolChoiceOf(request);
  if (request.response_format?.type === 'json_schema') {
    const schema = request.response_format.json_schema.schema ?? { type: 'object' };
    body['tools'] = [
      ...((body['tools'] as Block[] | undefined) ?? []),
      { name: jsonSchemaToolName, description: `Respond with ${request.response_format.json_schema.name} as JSON.`, input_schema: schema },
    ];
    body['tool_choice'] = { type: 'tool', name: jsonSchemaToolName };
    jsonViaTool = true;
  } else if (choice) {
    body['tool_choice'] = choice;
  }
  if (request.response_format?.type === 'json_object') {
    system.push({ type: 'text', text: 'Respond with a single valid JSON object and nothing else.' });
    warnings.push('response_format json_object is emulated on Anthropic with a system instruction');
  }
  if (system.length > 0) body['system'] = system;
  limitCacheBreakpoints(body, warnings);

  for (const field of ['seed', 'logprobs', 'top_logprobs', 'presence_penalty', 'frequency_penalty'] as const) {
    if (request[field] != null && request[field] !== false) warnings.push(`${field} is not supported by Anthropic and was dropped`);
  }
  for (const field of Object.keys(request))
    if (!handled.has(field)) warnings.push(`${field} is not supported by Anthropic and was dropped`);
  return { body, warnings, jsonViaTool };
}

function convertMessage(
  message: ChatMessage,
  index: number,
  system: Block[],
  push: (role: 'user' | 'assistant', blocks: Block[]) => void,
): void {
  switch (message.role) {
    case 'system':
    case 'developer':
      system.push(...textBlocks(message.content));
      return;
    case 'user':
      push(
        'user',
        typeof message.content === 'string'
          ? [{ type: 'text', text: message.content }]
          : message.content.map((part, position) => userPart(part, index, position)),
      );
      return;
    case 'assistant': {
      const blocks: Block[] = message.content ? textBlocks(message.content).filter((block) => block['text'] !== '') : [];
      for (const call of message.tool_calls ?? [])
        blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments, index) });
      if (message.function_call) {
        blocks.push({
          type: 'tool_use',
          id: `call_${index}`,
          name: message.function_call.name,
          input: parseArguments(message.function_call.arguments, index),
        });
      }
      push('assistant', blocks.length > 0 ? blocks : [{ type: 'text', text: '' }]);
      return;
    }
    case 'tool':
      push('user', [
        {
          type: 'tool_result',
          tool_use_id: message.tool_call_id,
          content: typeof message.content === 'string' ? message.content : textBlocks(message.content),
        },
      ]);
      return;
    case 'function':
      push('user', [{ type: 'tool_result', tool_use_id: `call_${index - 1}`, content: message.content ?? '' }]);
      return;
  }
}

function textBlocks(content: string | readonly TextPart[]): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((part) => ({ type: 'text', text: part.text, ...(part.cache_control ? { cache_control: part.cache_control } : {}) }));
}

function userPart(part: ContentPart, index: number, position: number): Block {
  if (part.type === 'text') {
    const text = part as TextPart;
    return { type: 'text', text: text.text, ...(text.cache_control ? { cache_control: text.cache_control } : {}) };
  }
  if (part.type === 'image_url') {
    const url = (part as { image_url: { url: string } }).image_url.url;
    const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
    if (data) return { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } };
    if (/^https?:\/\//.test(url)) return { type: 'image', source: { type: 'url', url } };
    throw invalidRequest('An image must be an http(s) URL or a base64 data: URL.', `messages[${index}].content[${position}].image_url.url`);
  }
  throw invalidRequest(
    `Content parts of type '${part.type}' cannot be sent to Anthropic; use text or image_url.`,
    `messages[${index}].content[${position}].type`,
    ErrorCode.unsupportedParameter,
  );
}

function parseArguments(text: string, index: number): unknown {
  try {
    return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    throw invalidRequest('Tool call arguments must be a JSON object string.', `messages[${index}].tool_calls`);
  }
}

function toolsOf(request: ChatRequest): ToolDefinition[] {
  if (request.tools) return request.tools;
  return (request.functions ?? []).map((fn) => ({ type: 'function', function: fn }));
}

function convertTool(tool: ToolDefinition): Block {
  return {
    name: tool.function.name,
    ...(tool.function.description ? { description: tool.function.description } : {}),
    input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
  };
}

function toolChoiceOf(request: ChatRequest): Block | undefined {
  const disable = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  const choice =
    request.tool_choice ??
    (typeof request.function_call === 'object' ? { type: 'function' as const, function: request.function_call } : request.function_call);
  if (choice === undefined) return request.parallel_tool_calls === false ? { type: 'auto', ...disable } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...disable };
  if (choice === 'required') return { type: 'any', ...disable };
  return { type: 'tool', name: choice.function.name, ...disable };
}

/** Anthropic accepts at most 4 `cache_control` breakpoints; keep the first 4 and say so. */
function limitCacheBreakpoints(body: Record<string, unknown>, warnings: string[]): void {
  let seen = 0;
  const visit = (blocks: unknown): void => {
    if (!Array.isArray(blocks)) return;
    for (const block of blocks as Block[]) {
      if (!block['cache_control']) continue;
      seen++;
      if (seen > 4) delete block['cache_control'];
    }
  };
  visit(body['system']);
  for (const message of body['messages'] as AnthropicMessage[]) visit(message.content);
  if (seen > 4) warnings.push(`${seen - 4} cache_control breakpoint(s) beyond Anthropic's limit of 4 were dropped`);
}
