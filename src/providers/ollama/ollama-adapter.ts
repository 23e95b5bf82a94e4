import type { ChatRequest } from '../../core/chat.js';
import { embeddingInputs } from '../../core/embeddings.js';
import { ErrorCode, GatewayError, invalidRequest } from '../../core/errors.js';
import type { ModelInfo } from '../../core/models.js';
import { ProviderKind } from '../../core/models.js';
import type { StreamPart } from '../../core/stream-part.js';
import type { ChatCall, ChatResult, EmbedCall, EmbeddingResult, ProviderAdapter, ProviderStream } from '../spec/provider-adapter.js';
import { isRecord, parseUpstreamJson } from '../shared/json.js';
import { readUpstreamBody } from '../shared/read-upstream-body.js';
import { readNdjsonLines } from '../shared/stream-reader.js';
import { defaultTimeouts, UpstreamClient } from '../shared/upstream-client.js';
import type { UpstreamResponse, UpstreamTimeouts } from '../shared/upstream-client.js';
import { malformedUpstream } from '../shared/upstream-error.js';
import { toOllamaRequest } from './convert-request.js';
import { fromOllamaResponse } from './convert-response.js';
import { OllamaStreamDecoder } from './ollama-stream-decoder.js';

export const ollamaDefaultBaseUrl = 'http://localhost:11434';

export interface OllamaOptions {
  name: string;
  baseUrl?: string;
  timeouts?: UpstreamTimeouts;
  headers?: Record<string, string>;
}

/** Ollama's native API (`/api/chat` NDJSON, `/api/embed`, `/api/tags`) behind the OpenAI shape. */
export function createOllamaAdapter(options: OllamaOptions): ProviderAdapter {
  return new OllamaAdapter(options);
}

class OllamaAdapter implements ProviderAdapter {
  readonly kind = ProviderKind.ollama;
  readonly passthrough = false;
  readonly name: string;
  private readonly baseUrl: string;
  private readonly client: UpstreamClient;
  private readonly extraHeaders: Record<string, string>;

  constructor(options: OllamaOptions) {
    this.name = options.name;
    this.baseUrl = (options.baseUrl ?? ollamaDefaultBaseUrl).replace(/\/+$/, '');
    this.client = new UpstreamClient(options.name, options.timeouts ?? defaultTimeouts);
    this.extraHeaders = options.headers ?? {};
  }

  private headers(apiKey: string): Record<string, string> {
    return { 'content-type': 'application/json', ...this.extraHeaders, ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) };
  }

  private post(path: string, apiKey: string, body: unknown, signal: AbortSignal): Promise<UpstreamResponse> {
    return this.client.send({ url: `${this.baseUrl}${path}`, headers: this.headers(apiKey), body: JSON.stringify(body), signal });
  }

  check(request: ChatRequest, upstreamModel: string): string[] {
    return toOllamaRequest(request, upstreamModel, false).warnings;
  }

  async chat(call: ChatCall): Promise<ChatResult> {
    const plan = toOllamaRequest(call.request, call.upstreamModel, false);
    const response = await this.post('/api/chat', call.apiKey, plan.body, call.signal);
    const body = parseUpstreamJson(this.name, await this.readBody(response, call.signal, call.upstreamModel));
    const { response: chatResponse, usage } = fromOllamaResponse(this.name, body, call.upstreamModel);
    return { response: chatResponse, usage, warnings: plan.warnings };
  }

  async stream(call: ChatCall): Promise<ProviderStream> {
    const plan = toOllamaRequest(call.request, call.upstreamModel, true);
    const response = await this.post('/api/chat', call.apiKey, plan.body, call.signal);
    if (response.status >= 300) await this.readBody(response, call.signal, call.upstreamModel);
    return Object.assign(this.parts(response, call.signal), { warnings: plan.warnings });
  }

  private async *parts(response: UpstreamResponse, signal: AbortSignal): AsyncGenerator<StreamPart> {
    const decoder = new OllamaStreamDecoder(this.name);
    for await (const line of readNdjsonLines(response, this.client, signal)) {
      yield* decoder.decode(line);
      if (decoder.complete) return;
    }
    throw malformedUpstream(this.name, 'the stream ended before its `done: true` line');
  }

  async embed(call: EmbedCall): Promise<EmbeddingResult> {
    const inputs = embeddingInputs(call.request.input);
    if (inputs.some((input) => typeof input !== 'string')) {
      throw invalidRequest(
        'Ollama embeds text only: send `input` as a string or an array of strings.',
        'input',
        ErrorCode.unsupportedParameter,
      );
    }
    const response = await this.post(
      '/api/embed',
      call.apiKey,
      { model: call.upstreamModel, input: inputs, ...(call.request.dimensions ? { dimensions: call.request.dimensions } : {}) },
      call.signal,
    );
    const body = parseUpstreamJson(this.name, await this.readBody(response, call.signal, call.upstreamModel));
    if (!isRecord(body) || !Array.isArray(body['embeddings']))
      throw malformedUpstream(this.name, 'the embed answer has no `embeddings` array');
    const promptTokens = typeof body['prompt_eval_count'] === 'number' ? body['prompt_eval_count'] : 0;
    return {
      response: {
        object: 'list',
        data: (body['embeddings'] as number[][]).map((embedding, index) => ({ object: 'embedding', index, embedding })),
        model: typeof body['model'] === 'string' ? body['model'] : call.upstreamModel,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      },
      usage: { promptTokens, completionTokens: 0 },
      warnings: [],
    };
  }

  async listModels({ apiKey, signal }: { apiKey: string; signal: AbortSignal }): Promise<ModelInfo[]> {
    const response = await this.client.send({ url: `${this.baseUrl}/api/tags`, method: 'GET', headers: this.headers(apiKey), signal });
    const body = parseUpstreamJson(this.name, await this.readBody(response, signal, ''));
    const models = isRecord(body) && Array.isArray(body['models']) ? body['models'] : [];
    return models.flatMap((entry): ModelInfo[] => {
      const id = isRecord(entry) ? (entry['name'] ?? entry['model']) : undefined;
      if (typeof id !== 'string') return [];
      const embeddings = /embed/i.test(id);
      // Ollama does not say which models take tools or images: assume they do and let the model refuse.
      return [
        {
          id,
          capabilities: { tools: !embeddings, vision: !embeddings, jsonSchema: !embeddings, streaming: !embeddings, embeddings },
          pricing: { input: 0, output: 0 },
          source: 'discovered',
        },
      ];
    });
  }

  private async readBody(response: UpstreamResponse, signal: AbortSignal, model: string): Promise<string> {
    try {
      return await readUpstreamBody(
        this.client,
        response,
        signal,
        (status, text) => status === 400 && /context length|context window/i.test(text),
      );
    } catch (error) {
      if (response.status === 404 && model) {
        throw new GatewayError(
          ErrorCode.unknownModel,
          `Ollama does not have the model '${model}': run \`ollama pull ${model}\` on the Ollama host.`,
          { status: 404, param: 'model' },
        );
      }
      throw error;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
