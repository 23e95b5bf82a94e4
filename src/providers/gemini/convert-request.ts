import type { ChatMessage, ChatRequest, ContentPart, ToolDefinition } from '../../core/chat.js';
import { contentText } from '../../core/chat.js';
import { ErrorCode, invalidRequest } from '../../core/errors.js';
import { toGeminiSchema } from './convert-json-schema.js';

type Part = Record<string, unknown>;
interface Content {
  role: 'user' | 'model';
  parts: Part[];
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
  'presence_penalty',
  'frequency_penalty',
  'stream',
  'stream_options',
  'logprobs',
  'top_logprobs',
]);

const imageTypes: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

/** OpenAI chat request → Gemini `generateContent` body. */
export function toGeminiRequest(request: ChatRequest): { body: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = [];
  const system: Part[] = [];
  const contents: Content[] = [];
  const toolNames = new Map<string, string>();
  const push = (role: Content['role'], parts: Part[]): void => {
    const last = contents.at(-1);
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  request.messages.forEach((message, index) => convertMessage(message, index, system, push, toolNames));
  const body: Record<string, unknown> = { contents };
  if (system.length > 0) body['systemInstruction'] = { parts: system };

  const tools: ToolDefinition[] = request.tools ?? (request.functions ?? []).map((fn) => ({ type: 'function', function: fn }));
  if (tools.length > 0) {
    body['tools'] = [
      {
        functionDeclarations: tools.map((tool, position) => {
          const declaration: Record<string, unknown> = { name: tool.function.name };
          if (tool.function.description) declaration['description'] = tool.function.description;
          // Gemini refuses an OBJECT schema with no properties: a function without parameters omits them.
          const properties = tool.function.parameters?.['properties'];
          if (tool.function.parameters && typeof properties === 'object' && properties !== null && Object.keys(properties).length > 0) {
            const converted = toGeminiSchema(
              tool.function.parameters,
              `tool '${tool.function.name}'`,
              `tools[${position}].function.parameters`,
            );
            declaration['parameters'] = converted.schema;
            warnings.push(...converted.dropped);
          }
          return declaration;
        }),
      },
    ];
  }
  const choice = request.tool_choice;
  if (choice !== undefined) {
    if (choice === 'none') body['toolConfig'] = { functionCallingConfig: { mode: 'NONE' } };
    else if (choice === 'auto') body['toolConfig'] = { functionCallingConfig: { mode: 'AUTO' } };
    else if (choice === 'required') body['toolConfig'] = { functionCallingConfig: { mode: 'ANY' } };
    else body['toolConfig'] = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  }
  if (request.parallel_tool_calls === false) warnings.push('parallel_tool_calls: false is not supported by Gemini and was dropped');

  const config: Record<string, unknown> = {};
  if (request.temperature != null) config['temperature'] = request.temperature;
  if (request.top_p != null) config['topP'] = request.top_p;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) config['maxOutputTokens'] = maxTokens;
  if (request.stop != null) config['stopSequences'] = Array.isArray(request.stop) ? request.stop : [request.stop];
  if (request.n != null && request.n > 1) config['candidateCount'] = request.n;
  if (request.seed != null) config['seed'] = request.seed;
  if (request.presence_penalty != null) config['presencePenalty'] = request.presence_penalty;
  if (request.frequency_penalty != null) config['frequencyPenalty'] = request.frequency_penalty;
  if (request.logprobs) {
    config['responseLogprobs'] = true;
    if (request.top_logprobs != null) config['logprobs'] = request.top_logprobs;
    warnings.push('logprobs are requested from Gemini but not returned in the OpenAI shape');
  }
  const format = request.response_format;
  if (format?.type === 'json_object') config['responseMimeType'] = 'application/json';
  if (format?.type === 'json_schema') {
    config['responseMimeType'] = 'application/json';
    if (format.json_schema.schema) {
      const converted = toGeminiSchema(
        format.json_schema.schema,
        `response_format '${format.json_schema.name}'`,
        'response_format.json_schema.schema',
      );
      config['responseSchema'] = converted.schema;
      warnings.push(...converted.dropped);
    }
  }
  if (Object.keys(config).length > 0) body['generationConfig'] = config;
  for (const field of Object.keys(request)) if (!handled.has(field)) warnings.push(`${field} is not supported by Gemini and was dropped`);
  if (request.user) warnings.push('user is not supported by Gemini and was dropped');
  return { body, warnings };
}

function convertMessage(
  message: ChatMessage,
  index: number,
  system: Part[],
  push: (role: Content['role'], parts: Part[]) => void,
  toolNames: Map<string, string>,
): void {
  switch (message.role) {
    case 'system':
    case 'developer':
      system.push({ text: contentText(message.content) });
      return;
    case 'user':
      push(
        'user',
        typeof message.content === 'string'
          ? [{ text: message.content }]
          : message.content.map((part, position) => userPart(part, index, position)),
      );
      return;
    case 'assistant': {
      const parts: Part[] = [];
      const text = contentText(message.content);
      if (text) parts.push({ text });
      for (const call of message.tool_calls ?? []) {
        toolNames.set(call.id, call.function.name);
        parts.push({ functionCall: { name: call.function.name, args: parseArguments(call.function.arguments, index) } });
      }
      if (message.function_call)
        parts.push({ functionCall: { name: message.function_call.name, args: parseArguments(message.function_call.arguments, index) } });
      push('model', parts.length > 0 ? parts : [{ text: '' }]);
      return;
    }
    case 'tool': {
      const name = toolNames.get(message.tool_call_id);
      if (!name)
        throw invalidRequest(
          `The tool message answers tool_call_id '${message.tool_call_id}', which no earlier assistant message called; Gemini needs the function name.`,
          `messages[${index}].tool_call_id`,
        );
      push('user', [{ functionResponse: { name, response: asObject(contentText(message.content)) } }]);
      return;
    }
    case 'function':
      push('user', [{ functionResponse: { name: message.name, response: asObject(message.content ?? '') } }]);
      return;
  }
}

function userPart(part: ContentPart, index: number, position: number): Part {
  if (part.type === 'text') return { text: (part as { text: string }).text };
  if (part.type === 'image_url') {
    const url = (part as { image_url: { url: string } }).image_url.url;
    const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
    if (data) return { inlineData: { mimeType: data[1], data: data[2] } };
    const extension = /\.([a-z0-9]+)(?:\?|#|$)/i.exec(url)?.[1]?.toLowerCase() ?? '';
    const mimeType = imageTypes[extension];
    if (/^https?:\/\//.test(url) && mimeType) return { fileData: { fileUri: url, mimeType } };
    throw invalidRequest(
      'Gemini needs the image type: send the image as a base64 data: URL, or a URL ending in .png, .jpg, .jpeg, .webp, .gif, .heic or .heif.',
      `messages[${index}].content[${position}].image_url.url`,
      ErrorCode.unsupportedParameter,
    );
  }
  throw invalidRequest(
    `Content parts of type '${part.type}' cannot be sent to Gemini; use text or image_url.`,
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

/** Gemini's functionResponse.response must be an object: JSON objects pass, anything else is wrapped. */
function asObject(text: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return { result: parsed };
  } catch {
    return { result: text };
  }
}
