import type { ChatRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../../core/chat.js';
import { ErrorCode, invalidRequest } from '../../core/errors.js';
import { routeOptionsSchema } from '../../routing/route-options.js';
import type { RouteOptions } from '../../routing/route-options.js';
import { gatewayFields } from '../schemas/chat-request-schema.js';
import type { CountTokensRequest, MessagesRequest } from '../schemas/messages-request-schema.js';
import { countTokensRequestSchema, messagesRequestSchema } from '../schemas/messages-request-schema.js';
import { validateBody } from '../validate.js';
import { convertMessages } from './convert-messages.js';

export interface InboundMessages {
  chat: ChatRequest;
  route: RouteOptions;
  /** What was dropped on the way in, one sentence each (sent as `x-cb-warnings`). */
  warnings: string[];
}

/** Fields this converter maps; every other field is dropped with a warning, or refused if listed in `refused`. */
const mapped = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'stop_sequences',
  'temperature',
  'top_p',
  'metadata',
  'stream',
  'output_config',
  ...gatewayFields,
]);

/** Server-side features a client relies on for the answer itself: dropping them would change it silently. */
const refused: Record<string, string> = {
  mcp_servers: 'MCP servers are run by Anthropic itself; connect the tools to your client, or call Anthropic directly.',
  container: 'code-execution containers are run by Anthropic itself; call Anthropic directly for them.',
};

/**
 * A `POST /v1/messages` body → the OpenAI-shaped chat request every provider is reached through, the
 * routing options (OpenRouter's `models`/`provider`, the `circuit_breaker` extension, as on the OpenAI
 * route) and the warnings for what had to be dropped. A bad or unsupported field is a 400 naming it.
 */
export function toChatRequest(body: unknown): InboundMessages {
  const request = validateBody(messagesRequestSchema, body);
  const warnings: string[] = [];
  const chat = baseRequest(request, warnings);
  chat.max_tokens = request.max_tokens;
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0) chat.stop = request.stop_sequences;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  if (request.top_k !== undefined)
    warnings.push('top_k is not carried over (the backends are reached with OpenAI parameters: temperature, top_p) and was dropped');
  if (typeof request.metadata?.user_id === 'string') chat.user = request.metadata.user_id;
  if (request.stream === true) chat.stream = true;
  const format = outputFormat(request['output_config'], warnings);
  if (format) chat.response_format = format;
  thinking(request['thinking'], warnings);
  for (const field of Object.keys(request)) {
    if (mapped.has(field) || field === 'top_k' || field === 'thinking') continue;
    const reason = refused[field];
    if (reason) throw invalidRequest(`\`${field}\` is not supported by this gateway: ${reason}`, field, ErrorCode.unsupportedParameter);
    warnings.push(`${field} is not supported by this gateway's Messages API and was dropped`);
  }
  return { chat, route: routeOf(request), warnings };
}

/** A `POST /v1/messages/count_tokens` body → the chat request whose prompt is counted. */
export function toCountedRequest(body: unknown): { chat: ChatRequest; route: RouteOptions } {
  const request = validateBody(countTokensRequestSchema, body);
  return { chat: baseRequest(request, []), route: routeOf(request) };
}

function baseRequest(request: CountTokensRequest | MessagesRequest, warnings: string[]): ChatRequest {
  const chat: ChatRequest = { model: request.model, messages: convertMessages(request.system, request.messages, warnings) };
  if (chat.messages.length === 0) throw invalidRequest('The conversation has no message besides an empty system prompt.', 'messages');
  const tools = (request.tools ?? []).map((tool, index): ToolDefinition => {
    if (tool.type != null && tool.type !== 'custom')
      throw invalidRequest(
        `Tools of type '${tool.type}' run on Anthropic's servers and cannot be offered through this gateway; define a custom tool (name, description, input_schema) instead.`,
        `tools[${index}].type`,
        ErrorCode.unsupportedParameter,
      );
    if (tool.input_schema === undefined) throw invalidRequest('A custom tool needs an `input_schema`.', `tools[${index}].input_schema`);
    if (tool.cache_control) warnings.push(`tools[${index}]: cache_control on a tool cannot be carried over and was dropped`);
    const fn: ToolDefinition['function'] = { name: tool.name, parameters: tool.input_schema };
    if (tool.description !== undefined) fn.description = tool.description;
    if (tool.strict !== undefined) fn.strict = tool.strict;
    return { type: 'function', function: fn };
  });
  if (tools.length > 0) chat.tools = tools;
  const choice = request.tool_choice;
  if (choice) {
    chat.tool_choice = toolChoiceOf(choice);
    if (choice.type !== 'none' && choice.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
  }
  return chat;
}

function toolChoiceOf(choice: NonNullable<MessagesRequest['tool_choice']>): ToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}

/** `output_config.format` (structured outputs) → `response_format: json_schema`; `effort` has no carrier and is dropped. */
function outputFormat(config: unknown, warnings: string[]): ResponseFormat | undefined {
  if (config === undefined || config === null) return undefined;
  if (typeof config !== 'object' || Array.isArray(config)) throw invalidRequest('`output_config` must be an object.', 'output_config');
  const { format, effort, ...rest } = config as Record<string, unknown>;
  if (effort != null) warnings.push('output_config.effort is not carried over and was dropped');
  for (const field of Object.keys(rest)) warnings.push(`output_config.${field} is not supported by this gateway and was dropped`);
  if (format == null) return undefined;
  const { type, schema } = format as { type?: unknown; schema?: unknown };
  if (type !== 'json_schema' || typeof schema !== 'object' || schema === null || Array.isArray(schema))
    throw invalidRequest('`output_config.format` must be {type: "json_schema", schema: {...}}.', 'output_config.format');
  return { type: 'json_schema', json_schema: { name: 'output', schema: schema as Record<string, unknown> } };
}

/** Extended thinking has no carrier in the OpenAI shape every backend is reached with: it is dropped, and said so. */
function thinking(config: unknown, warnings: string[]): void {
  if (config == null) return;
  const type = typeof config === 'object' ? (config as { type?: unknown }).type : undefined;
  if (type === 'disabled') return;
  if (typeof type !== 'string')
    throw invalidRequest('`thinking` must be {type: "enabled", budget_tokens} or {type: "disabled"}.', 'thinking');
  warnings.push(`thinking (${type}) is not carried over to the backends and was dropped; the answer has no thinking blocks`);
}

function routeOf(request: Record<string, unknown>): RouteOptions {
  return validateBody(routeOptionsSchema, {
    models: request['models'],
    provider: request['provider'],
    circuit_breaker: request['circuit_breaker'],
  });
}
