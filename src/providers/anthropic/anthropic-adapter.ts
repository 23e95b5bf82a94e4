import type { ChatRequest } from '../../core/chat.js';
import type { ModelInfo } from '../../core/models.js';
import { ProviderKind } from '../../core/models.js';
import type { StreamPart } from '../../core/stream-part.js';
import type { ChatCall, ChatResult, ProviderAdapter, ProviderStream } from '../spec/provider-adapter.js';
import { isRecord, parseUpstreamJson } from '../shared/json.js';
import { readSseEvents } from '../shared/stream-reader.js';
import { readUpstreamBody } from '../shared/read-upstream-body.js';
import { defaultTimeouts, UpstreamClient } from '../shared/upstream-client.js';
import type { UpstreamResponse, UpstreamTimeouts } from '../shared/upstream-client.js';
import { malformedUpstream } from '../shared/upstream-error.js';
import { toAnthropicRequest } from './convert-request.js';
import { fromAnthropicMessage } from './convert-response.js';
import { AnthropicStreamDecoder } from './anthropic-stream-decoder.js';

export const anthropicDefaultBaseUrl = 'https://api.anthropic.com';
export const anthropicVersion = '2023-06-01';

export interface AnthropicOptions {
  name: string;
  baseUrl?: string;
  timeouts?: UpstreamTimeouts;
  headers?: Record<string, string>;
  /** `max_tokens` when the client sets none (Anthropic requires one). Default 4096. */
  defaultMaxTokens?: number;
}

/** Anthropic's Messages API behind the OpenAI shape. See README.md beside this file for the parameter table. */
export function createAnthropicAdapter(options: AnthropicOptions): ProviderAdapter {
  return new AnthropicAdapter(options);
}

class AnthropicAdapter implements ProviderAdapter {
  readonly kind = ProviderKind.anthropic;
  readonly passthrough = false;
  readonly name: string;
  private readonly baseUrl: string;
  private readonly client: UpstreamClient;
  private readonly extraHeaders: Record<string, string>;
  private readonly defaultMaxTokens: number;

  constructor(options: AnthropicOptions) {
    this.name = options.name;
    this.baseUrl = (options.baseUrl ?? anthropicDefaultBaseUrl).replace(/\/+$/, '');
    this.client = new UpstreamClient(options.name, options.timeouts ?? defaultTimeouts);
    this.extraHeaders = options.headers ?? {};
    this.defaultMaxTokens = options.defaultMaxTokens ?? 4096;
  }

  private headers(apiKey: string): Record<string, string> {
    return { 'content-type': 'application/json', 'anthropic-version': anthropicVersion, ...this.extraHeaders, 'x-api-key': apiKey };
  }

  check(request: ChatRequest, upstreamModel: string): string[] {
    return toAnthropicRequest(request, upstreamModel, false, this.defaultMaxTokens).warnings;
  }

  async chat(call: ChatCall): Promise<ChatResult> {
    const plan = toAnthropicRequest(call.request, call.upstreamModel, false, this.defaultMaxTokens);
    const response = await this.client.send({
      url: `${this.baseUrl}/v1/messages`,
      headers: this.headers(call.apiKey),
      body: JSON.stringify(plan.body),
      signal: call.signal,
    });
    const body = parseUpstreamJson(this.name, await this.readBody(response, call.signal));
    const { response: chatResponse, usage } = fromAnthropicMessage(this.name, body, plan.jsonViaTool);
    return { response: chatResponse, usage, warnings: plan.warnings };
  }

  async stream(call: ChatCall): Promise<ProviderStream> {
    const plan = toAnthropicRequest(call.request, call.upstreamModel, true, this.defaultMaxTokens);
    const response = await this.client.send({
      url: `${this.baseUrl}/v1/messages`,
      headers: this.headers(call.apiKey),
      body: JSON.stringify(plan.body),
      signal: call.signal,
    });
    const contentType = String(response.headers['content-type'] ?? '');
    if (response.status >= 300 || !contentType.includes('text/event-stream')) {
      const text = await this.readBody(response, call.signal);
      throw malformedUpstream(this.name, `expected an event stream, got '${contentType || 'no content type'}' (${text.slice(0, 80)})`);
    }
    return Object.assign(this.parts(response, call.signal, plan.jsonViaTool), { warnings: plan.warnings });
  }

  private async *parts(response: UpstreamResponse, signal: AbortSignal, jsonViaTool: boolean): AsyncGenerator<StreamPart> {
    const decoder = new AnthropicStreamDecoder(this.name, jsonViaTool);
    for await (const event of readSseEvents(response, this.client, signal)) {
      yield* decoder.decode(event);
      if (decoder.complete) return;
    }
    throw malformedUpstream(this.name, 'the stream ended before `message_stop`');
  }

  async listModels({ apiKey, signal }: { apiKey: string; signal: AbortSignal }): Promise<ModelInfo[]> {
    const response = await this.client.send({
      url: `${this.baseUrl}/v1/models?limit=1000`,
      method: 'GET',
      headers: this.headers(apiKey),
      signal,
    });
    const body = parseUpstreamJson(this.name, await this.readBody(response, signal));
    const data = isRecord(body) && Array.isArray(body['data']) ? body['data'] : [];
    return data.flatMap((entry): ModelInfo[] =>
      isRecord(entry) && typeof entry['id'] === 'string'
        ? [
            {
              id: entry['id'],
              capabilities: { tools: true, vision: true, jsonSchema: true, streaming: true, embeddings: false },
              pricing: {},
              source: 'discovered',
            },
          ]
        : [],
    );
  }

  private readBody(response: UpstreamResponse, signal: AbortSignal): Promise<string> {
    return readUpstreamBody(
      this.client,
      response,
      signal,
      (status, text) => status === 400 && /prompt is too long|context window|too many tokens/i.test(text),
    );
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
