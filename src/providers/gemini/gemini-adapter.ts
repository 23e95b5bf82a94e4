import type { ChatRequest } from '../../core/chat.js';
import { embeddingInputs } from '../../core/embeddings.js';
import { ErrorCode, invalidRequest, ProviderError } from '../../core/errors.js';
import type { ModelInfo } from '../../core/models.js';
import { ProviderKind } from '../../core/models.js';
import type { StreamPart } from '../../core/stream-part.js';
import type { ChatCall, ChatResult, EmbedCall, EmbeddingResult, ProviderAdapter, ProviderStream } from '../spec/provider-adapter.js';
import { isRecord, parseUpstreamJson } from '../shared/json.js';
import { readUpstreamBody } from '../shared/read-upstream-body.js';
import { readSseEvents } from '../shared/stream-reader.js';
import { defaultTimeouts, UpstreamClient } from '../shared/upstream-client.js';
import type { UpstreamResponse, UpstreamTimeouts } from '../shared/upstream-client.js';
import { malformedUpstream } from '../shared/upstream-error.js';
import { toGeminiRequest } from './convert-request.js';
import { fromGeminiResponse } from './convert-response.js';
import { GeminiStreamDecoder } from './gemini-stream-decoder.js';

export const geminiDefaultBaseUrl = 'https://generativelanguage.googleapis.com';

export interface GeminiOptions {
  name: string;
  baseUrl?: string;
  timeouts?: UpstreamTimeouts;
  headers?: Record<string, string>;
}

/** Google's Gemini API behind the OpenAI shape; the key travels in `x-goog-api-key`, never in the URL. */
export function createGeminiAdapter(options: GeminiOptions): ProviderAdapter {
  return new GeminiAdapter(options);
}

class GeminiAdapter implements ProviderAdapter {
  readonly kind = ProviderKind.gemini;
  readonly passthrough = false;
  readonly name: string;
  private readonly baseUrl: string;
  private readonly client: UpstreamClient;
  private readonly extraHeaders: Record<string, string>;

  constructor(options: GeminiOptions) {
    this.name = options.name;
    this.baseUrl = (options.baseUrl ?? geminiDefaultBaseUrl).replace(/\/+$/, '');
    this.client = new UpstreamClient(options.name, options.timeouts ?? defaultTimeouts);
    this.extraHeaders = options.headers ?? {};
  }

  private headers(apiKey: string): Record<string, string> {
    return { 'content-type': 'application/json', ...this.extraHeaders, 'x-goog-api-key': apiKey };
  }

  private url(model: string, method: string): string {
    return `${this.baseUrl}/v1beta/models/${encodeURIComponent(model)}:${method}`;
  }

  check(request: ChatRequest): string[] {
    return toGeminiRequest(request).warnings;
  }

  async chat(call: ChatCall): Promise<ChatResult> {
    const plan = toGeminiRequest(call.request);
    const response = await this.client.send({
      url: this.url(call.upstreamModel, 'generateContent'),
      headers: this.headers(call.apiKey),
      body: JSON.stringify(plan.body),
      signal: call.signal,
    });
    const body = parseUpstreamJson(this.name, await this.readBody(response, call.signal));
    const { response: chatResponse, usage } = fromGeminiResponse(this.name, body, call.upstreamModel);
    return { response: chatResponse, usage, warnings: plan.warnings };
  }

  async stream(call: ChatCall): Promise<ProviderStream> {
    const plan = toGeminiRequest(call.request);
    const response = await this.client.send({
      url: `${this.url(call.upstreamModel, 'streamGenerateContent')}?alt=sse`,
      headers: this.headers(call.apiKey),
      body: JSON.stringify(plan.body),
      signal: call.signal,
    });
    const contentType = String(response.headers['content-type'] ?? '');
    if (response.status >= 300 || !contentType.includes('text/event-stream')) {
      const text = await this.readBody(response, call.signal);
      throw malformedUpstream(this.name, `expected an event stream, got '${contentType || 'no content type'}' (${text.slice(0, 80)})`);
    }
    return Object.assign(this.parts(response, call.signal, call.upstreamModel), { warnings: plan.warnings });
  }

  private async *parts(response: UpstreamResponse, signal: AbortSignal, model: string): AsyncGenerator<StreamPart> {
    const decoder = new GeminiStreamDecoder(this.name, model);
    for await (const event of readSseEvents(response, this.client, signal)) yield* decoder.decode(event.data);
    yield* decoder.end();
  }

  async embed(call: EmbedCall): Promise<EmbeddingResult> {
    const inputs = embeddingInputs(call.request.input);
    if (inputs.some((input) => typeof input !== 'string')) {
      throw invalidRequest(
        'Gemini embeds text only: send `input` as a string or an array of strings.',
        'input',
        ErrorCode.unsupportedParameter,
      );
    }
    const requests = (inputs as string[]).map((text) => ({
      model: `models/${call.upstreamModel}`,
      content: { parts: [{ text }] },
      ...(call.request.dimensions ? { outputDimensionality: call.request.dimensions } : {}),
    }));
    const response = await this.client.send({
      url: this.url(call.upstreamModel, 'batchEmbedContents'),
      headers: this.headers(call.apiKey),
      body: JSON.stringify({ requests }),
      signal: call.signal,
    });
    const body = parseUpstreamJson(this.name, await this.readBody(response, call.signal));
    const embeddings = isRecord(body) && Array.isArray(body['embeddings']) ? body['embeddings'] : undefined;
    if (!embeddings) throw malformedUpstream(this.name, 'the embed answer has no `embeddings` array');
    // Gemini does not report embedding token counts: estimated at 4 characters a token.
    const promptTokens = (inputs as string[]).reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
    return {
      response: {
        object: 'list',
        data: embeddings.map((embedding, index) => ({
          object: 'embedding',
          index,
          embedding: isRecord(embedding) && Array.isArray(embedding['values']) ? (embedding['values'] as number[]) : [],
        })),
        model: call.upstreamModel,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      },
      usage: { promptTokens, completionTokens: 0 },
      warnings: ['Gemini does not report embedding token counts; usage is estimated'],
    };
  }

  async listModels({ apiKey, signal }: { apiKey: string; signal: AbortSignal }): Promise<ModelInfo[]> {
    const models: ModelInfo[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 20; page++) {
      const query = `pageSize=1000${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`;
      const response = await this.client.send({
        url: `${this.baseUrl}/v1beta/models?${query}`,
        method: 'GET',
        headers: this.headers(apiKey),
        signal,
      });
      const body = parseUpstreamJson(this.name, await this.readBody(response, signal));
      const entries = isRecord(body) && Array.isArray(body['models']) ? body['models'] : [];
      for (const entry of entries) {
        if (!isRecord(entry) || typeof entry['name'] !== 'string') continue;
        const methods = Array.isArray(entry['supportedGenerationMethods']) ? entry['supportedGenerationMethods'] : [];
        const embeddings = methods.includes('embedContent') && !methods.includes('generateContent');
        models.push({
          id: entry['name'].replace(/^models\//, ''),
          ...(typeof entry['inputTokenLimit'] === 'number' ? { contextLength: entry['inputTokenLimit'] } : {}),
          ...(typeof entry['outputTokenLimit'] === 'number' ? { maxOutputTokens: entry['outputTokenLimit'] } : {}),
          capabilities: { tools: !embeddings, vision: !embeddings, jsonSchema: !embeddings, streaming: !embeddings, embeddings },
          pricing: {},
          source: 'discovered',
        });
      }
      pageToken = isRecord(body) && typeof body['nextPageToken'] === 'string' ? body['nextPageToken'] : undefined;
      if (!pageToken) break;
    }
    return models;
  }

  private async readBody(response: UpstreamResponse, signal: AbortSignal): Promise<string> {
    try {
      return await readUpstreamBody(
        this.client,
        response,
        signal,
        (status, text) => status === 400 && /exceeds the maximum number of tokens|input token count/i.test(text),
      );
    } catch (error) {
      // Gemini answers a bad key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID): the operator's problem, not the client's.
      if (
        error instanceof ProviderError &&
        error.upstreamStatus === 400 &&
        /API key not valid|API_KEY_INVALID/.test(error.upstreamMessage ?? '')
      ) {
        throw new ProviderError(
          ErrorCode.upstreamAuthentication,
          `Provider '${this.name}' rejected the gateway's API key for it; check the key configured for this provider: ${error.upstreamMessage ?? ''}`,
          {
            status: 502,
            provider: this.name,
            upstreamStatus: 400,
            ...(error.upstreamMessage ? { upstreamMessage: error.upstreamMessage } : {}),
          },
        );
      }
      throw error;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
