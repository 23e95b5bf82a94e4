import type { Dialect, ErrorAnswer, Operation } from './dialect.js';
import { record } from './dialect.js';
import type { ResolvedReply } from './scenario.js';
import { words } from './scenario.js';

const finishReasons = { stop: 'STOP', length: 'MAX_TOKENS', tool_calls: 'STOP', content_filter: 'SAFETY' } as const;
const statusNames: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/**
 * The fields of the Gemini API's `Schema` object (generativelanguage v1beta: an OpenAPI 3.0 subset). The
 * API parses it as a protocol buffer, so any other key (`additionalProperties`, `$ref`, `$defs`,
 * `propertyNames`, `uniqueItems`, `$schema`, `const`, `oneOf`…) is a 400 "Unknown name".
 */
const schemaFields = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);

/** The first key the Schema object does not have, with its path as the API reports it. */
function unknownSchemaField(schema: unknown, path: string): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  for (const [key, value] of Object.entries(schema)) {
    if (!schemaFields.has(key)) return `Unknown name "${key}" at '${path}': Cannot find field.`;
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      for (const [name, child] of Object.entries(value)) {
        const found = unknownSchemaField(child, `${path}.properties[${JSON.stringify(name)}].value`);
        if (found) return found;
      }
    }
    if (key === 'items') {
      const found = unknownSchemaField(value, `${path}.items`);
      if (found) return found;
    }
    if (key === 'anyOf' && Array.isArray(value)) {
      for (const [index, child] of value.entries()) {
        const found = unknownSchemaField(child, `${path}.any_of[${index}]`);
        if (found) return found;
      }
    }
  }
  return undefined;
}

/** Validates the schemas of a generateContent body as the real API does: tool parameters and the response schema. */
function invalidSchema(body: unknown): string | undefined {
  const tools = record(body)['tools'];
  for (const [toolIndex, tool] of (Array.isArray(tools) ? tools : []).entries()) {
    const declarations = record(tool)['functionDeclarations'];
    for (const [index, declaration] of (Array.isArray(declarations) ? declarations : []).entries()) {
      const found = unknownSchemaField(record(declaration)['parameters'], `tools[${toolIndex}].function_declarations[${index}].parameters`);
      if (found) return found;
    }
  }
  return unknownSchemaField(record(record(body)['generationConfig'])['responseSchema'], 'generation_config.response_schema');
}

function errorBody(code: number, message: string) {
  return { error: { code, message, status: statusNames[code] ?? 'UNKNOWN' } };
}

function usageMetadata(reply: ResolvedReply) {
  return {
    promptTokenCount: reply.usage.promptTokens,
    candidatesTokenCount: reply.usage.completionTokens - (reply.usage.reasoningTokens ?? 0),
    totalTokenCount: reply.usage.promptTokens + reply.usage.completionTokens,
    ...(reply.usage.cachedTokens ? { cachedContentTokenCount: reply.usage.cachedTokens } : {}),
    ...(reply.usage.reasoningTokens ? { thoughtsTokenCount: reply.usage.reasoningTokens } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: reply.usage.promptTokens }],
  };
}

/** Google's Gemini API (generativelanguage v1beta) wire format. */
export function geminiDialect(): Dialect {
  return {
    route(method, path, query, body): Operation | ErrorAnswer {
      const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents|embedContent)$/.exec(path);
      if (method === 'POST' && match) {
        const model = decodeURIComponent(match[1] ?? '');
        if (match[2] === 'batchEmbedContents' || match[2] === 'embedContent') return { op: 'embed', model };
        if (match[2] === 'streamGenerateContent' && query['alt'] !== 'sse')
          return { status: 400, body: errorBody(400, 'this emulator streams only with alt=sse') };
        const unknown = invalidSchema(body);
        if (unknown) return { status: 400, body: errorBody(400, `Invalid JSON payload received. ${unknown}`) };
        return { op: 'chat', stream: match[2] === 'streamGenerateContent', model };
      }
      if (method === 'GET' && path === '/v1beta/models') return { op: 'models' };
      return this.notFound(path);
    },
    checkAuth(headers, query, apiKey) {
      if ((headers['x-goog-api-key'] ?? query['key']) === apiKey) return undefined;
      const body = errorBody(400, 'API key not valid. Please pass a valid API key.');
      return {
        status: 400,
        body: {
          error: {
            ...body.error,
            details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
          },
        },
      };
    },
    error: (status, message) => errorBody(status, message),
    contextLengthError: () => ({
      status: 400,
      body: errorBody(400, 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'),
    }),
    notFound: (path) => ({ status: 404, body: errorBody(404, `Method not found: ${path}`) }),
    chat(reply) {
      const parts: unknown[] = [];
      if (reply.text) parts.push({ text: reply.text });
      for (const call of reply.toolCalls) parts.push({ functionCall: { name: call.name, args: JSON.parse(call.arguments) as unknown } });
      return {
        candidates: [{ content: { parts, role: 'model' }, finishReason: finishReasons[reply.finish], index: 0 }],
        usageMetadata: usageMetadata(reply),
        modelVersion: reply.model,
        responseId: 'emulated-response',
      };
    },
    streamContentType: 'text/event-stream',
    streamFrames(reply) {
      const frame = (value: unknown) => `data: ${JSON.stringify(value)}\r\n\r\n`;
      const pieces = words(reply.text);
      const frames: string[] = [];
      pieces.forEach((piece) => {
        frames.push(
          frame({
            candidates: [{ content: { parts: [{ text: piece }], role: 'model' }, index: 0 }],
            modelVersion: reply.model,
            responseId: 'emulated-response',
          }),
        );
      });
      const last: Record<string, unknown> = {
        content: { parts: [] as unknown[], role: 'model' },
        finishReason: finishReasons[reply.finish],
        index: 0,
      };
      const parts = (last['content'] as { parts: unknown[] }).parts;
      for (const call of reply.toolCalls) parts.push({ functionCall: { name: call.name, args: JSON.parse(call.arguments) as unknown } });
      if (parts.length === 0) parts.push({ text: '' });
      frames.push(
        frame({ candidates: [last], usageMetadata: usageMetadata(reply), modelVersion: reply.model, responseId: 'emulated-response' }),
      );
      return frames;
    },
    streamErrorFrames: () => [`data: ${JSON.stringify(errorBody(503, 'The model is overloaded. Please try again later.'))}\r\n\r\n`],
    brokenFrame: () => 'data: {"candidates": [{"content": {"parts": [{"text": \r\n\r\n',
    embedInputs(body) {
      const requests = record(body)['requests'];
      const contents = Array.isArray(requests) ? requests.map((request) => record(request)['content']) : [record(body)['content']];
      return contents.map((content) => {
        const parts = record(content)['parts'];
        return Array.isArray(parts) ? parts.map((part) => String(record(part)['text'] ?? '')).join('') : '';
      });
    },
    embed: (_inputs, _model, vectors) => ({ embeddings: vectors.map((values) => ({ values })) }),
    models: (ids) => ({
      models: ids.map((model) => ({
        name: `models/${model}`,
        version: '001',
        displayName: model,
        inputTokenLimit: 1_048_576,
        outputTokenLimit: 8192,
        supportedGenerationMethods: model.includes('embedding') ? ['embedContent'] : ['generateContent', 'countTokens'],
      })),
    }),
  };
}
