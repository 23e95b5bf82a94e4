import type { ChatRequest, ChatResponse } from '../../core/chat.js';
import type { EmbeddingResponse } from '../../core/embeddings.js';
import type { ModelInfo, ProviderKind } from '../../core/models.js';
import type { StreamPart } from '../../core/stream-part.js';
import { fromOpenAIUsage } from '../../core/usage.js';
import type { Usage } from '../../core/usage.js';
import type { ChatCall, ChatResult, EmbedCall, EmbeddingResult, ProviderAdapter, ProviderStream } from '../spec/provider-adapter.js';
import { isRecord, parseUpstreamJson } from './json.js';
import { OpenAIChunkDecoder, streamedError } from './openai-chunk-parts.js';
import { readSseEvents, sseReader } from './stream-reader.js';
import type { SseEvent } from './sse-parser.js';
import { readUpstreamBody } from './read-upstream-body.js';
import { defaultTimeouts, UpstreamClient } from './upstream-client.js';
import type { UpstreamResponse, UpstreamTimeouts } from './upstream-client.js';
import { malformedUpstream } from './upstream-error.js';

/** One event of a passthrough stream, checked: the usage chunk, or a chunk to forward (with or without content). */
type RawEvent = { type: 'usage'; usage: Usage; json: string } | { type: 'chunk'; hasContent: boolean };

export type OpenAIOperation = 'chat' | 'embeddings' | 'models';

export interface OpenAICompatibleOptions {
  name: string;
  kind: ProviderKind;
  /** The API root, e.g. `https://api.openai.com/v1` (no trailing slash). */
  baseUrl: string;
  /** Forward the upstream's chunks byte for byte (only for upstreams that speak OpenAI's dialect exactly). */
  passthrough: boolean;
  /** Extra headers sent on every call (e.g. `OpenAI-Organization`). */
  headers?: Record<string, string>;
  timeouts?: UpstreamTimeouts;
  /** Send `stream_options.include_usage` (default true; some older servers reject it). */
  streamUsage?: boolean;
}

/**
 * The adapter for every upstream that speaks OpenAI's Chat Completions dialect. OpenAI, Azure OpenAI and
 * custom endpoints (vLLM, LM Studio, Groq…) are this class with a different "where to call" (`url`,
 * `authHeaders`); the "how to translate" is shared.
 */
export class OpenAICompatibleAdapter implements ProviderAdapter {
  readonly name: string;
  readonly kind: ProviderKind;
  readonly passthrough: boolean;
  protected readonly client: UpstreamClient;
  protected readonly baseUrl: string;
  private readonly extraHeaders: Record<string, string>;
  private readonly streamUsage: boolean;

  constructor(options: OpenAICompatibleOptions) {
    this.name = options.name;
    this.kind = options.kind;
    this.passthrough = options.passthrough;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.extraHeaders = options.headers ?? {};
    this.streamUsage = options.streamUsage ?? true;
    this.client = new UpstreamClient(options.name, options.timeouts ?? defaultTimeouts);
  }

  /** Where an operation is called. */
  protected url(operation: OpenAIOperation, _upstreamModel: string): string {
    return `${this.baseUrl}/${operation === 'chat' ? 'chat/completions' : operation}`;
  }

  protected authHeaders(apiKey: string): Record<string, string> {
    return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  }

  /** The body sent upstream: the client's request with the upstream's model name. */
  protected chatBody(request: ChatRequest, upstreamModel: string, stream: boolean): Record<string, unknown> {
    const body: Record<string, unknown> = { ...request, model: upstreamModel };
    if (stream) {
      body['stream'] = true;
      if (this.streamUsage) body['stream_options'] = { ...request.stream_options, include_usage: true };
    } else {
      delete body['stream'];
      delete body['stream_options'];
    }
    return body;
  }

  private headers(apiKey: string): Record<string, string> {
    return { 'content-type': 'application/json', ...this.extraHeaders, ...this.authHeaders(apiKey) };
  }

  async chat(call: ChatCall): Promise<ChatResult> {
    const response = await this.post(
      'chat',
      call.upstreamModel,
      call.apiKey,
      call.signal,
      this.chatBody(call.request, call.upstreamModel, false),
    );
    const text = await this.readBody(response, call.signal);
    const body = parseUpstreamJson(this.name, text);
    if (!isRecord(body) || !Array.isArray(body['choices'])) {
      throw malformedUpstream(this.name, 'the completion has no `choices` array');
    }
    const chatResponse = body as ChatResponse;
    const usage = isRecord(chatResponse.usage) ? fromOpenAIUsage(chatResponse.usage) : undefined;
    return { response: chatResponse, usage, warnings: [], ...(this.passthrough ? { raw: text } : {}) };
  }

  async stream(call: ChatCall): Promise<ProviderStream> {
    const response = await this.post(
      'chat',
      call.upstreamModel,
      call.apiKey,
      call.signal,
      this.chatBody(call.request, call.upstreamModel, true),
    );
    const contentType = String(response.headers['content-type'] ?? '');
    if (response.status >= 300 || !contentType.includes('text/event-stream')) {
      const text = await this.readBody(response, call.signal);
      throw malformedUpstream(this.name, `expected an event stream, got '${contentType || 'no content type'}' (${text.slice(0, 80)})`);
    }
    const parts = this.passthrough ? this.rawParts(response, call.signal) : this.decodedParts(response, call.signal);
    return Object.assign(parts, { warnings: [] as string[] });
  }

  /**
   * OpenAI itself: forward each chunk's JSON as is; parse only the usage chunk and error events. The
   * chunks of one network read leave as one `raw-chunks` part, so the per-event work is synchronous
   * string checks and the layers above take one step per read; a plain iterator over a `BodyReader` (one
   * promise per read, no async generators in between).
   */
  private rawParts(response: UpstreamResponse, signal: AbortSignal): AsyncIterableIterator<StreamPart> {
    const reader = sseReader(response, this.client, signal);
    const queue: StreamPart[] = [];
    // Only the commit point needs to know which chunk carries content: after the first one, chunks are not
    // scanned for it and every later batch says `hasContent: true`.
    let contentSeen = false;
    let ended = false;
    let failure: { error: unknown } | undefined;
    /** One read's events into parts: the chunks between usage parts batched, in order. */
    const take = (events: readonly SseEvent[]): void => {
      let chunks: string[] = [];
      let hasContent = contentSeen;
      const flush = (): void => {
        if (chunks.length > 0) queue.push({ type: 'raw-chunks', chunks, hasContent });
        chunks = [];
        hasContent = contentSeen;
      };
      for (const event of events) {
        const data = event.data;
        if (data === '[DONE]') {
          flush();
          ended = true;
          return;
        }
        let part: RawEvent;
        try {
          part = this.rawPart(data, !contentSeen);
        } catch (error) {
          // What came before an error event or a garbled chunk still reaches the client, then the failure.
          flush();
          failure = { error };
          ended = true;
          return;
        }
        if (part.type === 'usage') {
          flush();
          queue.push(part);
          continue;
        }
        chunks.push(data);
        if (part.hasContent) hasContent = contentSeen = true;
      }
      flush();
    };
    const iterator: AsyncIterableIterator<StreamPart> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        for (;;) {
          const queued = queue.shift();
          if (queued !== undefined) return { done: false, value: queued };
          if (failure) {
            const { error } = failure;
            failure = undefined;
            throw error;
          }
          if (ended) return { done: true, value: undefined };
          let events: SseEvent[] | undefined;
          try {
            events = await reader.read();
          } catch (error) {
            ended = true;
            throw error;
          }
          if (events === undefined) {
            ended = true;
            reader.close();
            throw malformedUpstream(this.name, 'the stream ended before `data: [DONE]`');
          }
          take(events);
          if (ended) reader.close();
        }
      },
      return: async () => {
        ended = true;
        queue.length = 0;
        failure = undefined;
        reader.close();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  /**
   * One event of a passthrough stream: a usage part, or whether the chunk carries content (checked only
   * when `checkContent`); throws on an error event or a garbled chunk.
   */
  private rawPart(data: string, checkContent: boolean): RawEvent {
    // A cheap structural check instead of parsing every chunk: a truncated or garbled payload never reaches the client.
    if (data.charCodeAt(0) !== 123 || data.charCodeAt(data.length - 1) !== 125) {
      throw malformedUpstream(this.name, `a stream event is not a JSON object: ${JSON.stringify(data.slice(0, 80))}`);
    }
    // The common chunk, with one scan: it has a choice (so it is neither an error event nor the usage chunk).
    const choices = data.indexOf('"choices":[');
    if (choices !== -1 && data.charCodeAt(choices + 11) === 123 && !data.startsWith('{"error"'))
      return { type: 'chunk', hasContent: checkContent && hasContent(data) };
    if (data.startsWith('{"error"') || (data.includes('"error":{') && !data.includes('"choices":[{'))) {
      const parsed = parseUpstreamJson(this.name, data);
      if (isRecord(parsed) && parsed['error'] !== undefined) throw streamedError(this.name, parsed['error']);
    }
    if (data.includes('"choices":[]')) {
      const parsed = parseUpstreamJson(this.name, data);
      if (isRecord(parsed) && isRecord(parsed['usage']))
        return { type: 'usage', usage: fromOpenAIUsage(parsed['usage'] as never), json: data };
    }
    return { type: 'chunk', hasContent: checkContent && hasContent(data) };
  }

  /** Other OpenAI-compatible servers: decode every chunk so their quirks are repaired. */
  private async *decodedParts(response: UpstreamResponse, signal: AbortSignal): AsyncGenerator<StreamPart> {
    const decoder = new OpenAIChunkDecoder(this.name);
    let finished = false;
    for await (const event of readSseEvents(response, this.client, signal)) {
      if (event.data === '[DONE]') {
        finished = true;
        break;
      }
      for (const part of decoder.decode(event.data)) {
        if (part.type === 'finish') finished = true;
        yield part;
      }
    }
    if (!finished) throw malformedUpstream(this.name, 'the stream ended without a finish reason or `[DONE]`');
  }

  async embed(call: EmbedCall): Promise<EmbeddingResult> {
    const body = { ...call.request, model: call.upstreamModel };
    const response = await this.post('embeddings', call.upstreamModel, call.apiKey, call.signal, body);
    const parsed = parseUpstreamJson(this.name, await this.readBody(response, call.signal));
    if (!isRecord(parsed) || !Array.isArray(parsed['data'])) {
      throw malformedUpstream(this.name, 'the embeddings answer has no `data` array');
    }
    const result = parsed as unknown as EmbeddingResponse;
    const promptTokens = result.usage?.prompt_tokens;
    return {
      response: result,
      usage: typeof promptTokens === 'number' ? { promptTokens, completionTokens: 0 } : undefined,
      warnings: [],
    };
  }

  async listModels({ apiKey, signal }: { apiKey: string; signal: AbortSignal }): Promise<ModelInfo[]> {
    const response = await this.client.send({
      url: this.url('models', ''),
      method: 'GET',
      headers: this.headers(apiKey),
      signal,
    });
    const parsed = parseUpstreamJson(this.name, await this.readBody(response, signal));
    const data = isRecord(parsed) && Array.isArray(parsed['data']) ? parsed['data'] : [];
    return data.flatMap((entry): ModelInfo[] =>
      isRecord(entry) && typeof entry['id'] === 'string'
        ? [{ id: entry['id'], capabilities: discoveredCapabilities(entry['id']), pricing: {}, source: 'discovered' }]
        : [],
    );
  }

  protected async post(
    operation: OpenAIOperation,
    upstreamModel: string,
    apiKey: string,
    signal: AbortSignal,
    body: unknown,
  ): Promise<UpstreamResponse> {
    return this.client.send({
      url: this.url(operation, upstreamModel),
      headers: this.headers(apiKey),
      body: JSON.stringify(body),
      signal,
    });
  }

  /** Reads a 2xx body, or turns a non-2xx answer into the matching `ProviderError`. */
  protected readBody(response: UpstreamResponse, signal: AbortSignal): Promise<string> {
    return readUpstreamBody(this.client, response, signal, (_status, text) =>
      /context_length_exceeded|maximum context length|context window/i.test(text),
    );
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** A listed model's capabilities are not listed: assume a capable chat model, or an embedding model by its name. */
function discoveredCapabilities(id: string) {
  const embeddings = /embed/i.test(id);
  return { tools: !embeddings, vision: !embeddings, jsonSchema: !embeddings, streaming: !embeddings, embeddings };
}

/** Cheap test for the commit point on a raw OpenAI chunk: a non-empty content, refusal or a tool call. */
function hasContent(data: string): boolean {
  if (data.includes('"tool_calls":[')) return true;
  const at = data.indexOf('"content":"');
  if (at !== -1 && data.charCodeAt(at + 11) !== 34) return true;
  const refusal = data.indexOf('"refusal":"');
  return refusal !== -1 && data.charCodeAt(refusal + 11) !== 34;
}
