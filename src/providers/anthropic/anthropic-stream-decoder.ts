import { ErrorCode, ProviderError } from '../../core/errors.js';
import type { StreamPart } from '../../core/stream-part.js';
import type { Usage } from '../../core/usage.js';
import { isRecord, parseUpstreamJson } from '../shared/json.js';
import type { SseEvent } from '../shared/sse-parser.js';
import { malformedUpstream } from '../shared/upstream-error.js';
import { jsonSchemaToolName } from './convert-request.js';
import { anthropicUsage } from './convert-response.js';
import { mapAnthropicStopReason } from './map-finish-reason.js';

type BlockState = { kind: 'text' } | { kind: 'tool'; index: number } | { kind: 'json' } | { kind: 'ignored' };

/**
 * Anthropic Messages stream events → stream parts. Content blocks are tracked by Anthropic's block
 * index; tool calls get their own index (0, 1, 2… in the order their blocks start), and every
 * `input_json_delta` fragment becomes a `tool-call-delta` of that call. Thinking blocks are dropped.
 */
export class AnthropicStreamDecoder {
  private readonly blocks = new Map<number, BlockState>();
  private nextToolIndex = 0;
  private startUsage: unknown;
  private finished = false;

  constructor(
    private readonly provider: string,
    private readonly jsonViaTool: boolean,
  ) {}

  /** True once `message_stop` arrived. */
  get complete(): boolean {
    return this.finished;
  }

  decode(event: SseEvent): StreamPart[] {
    if (event.event === 'ping') return [];
    const data = parseUpstreamJson(this.provider, event.data);
    if (!isRecord(data)) throw malformedUpstream(this.provider, 'a stream event is not a JSON object');
    const type = typeof data['type'] === 'string' ? data['type'] : event.event;
    switch (type) {
      case 'message_start': {
        const message = isRecord(data['message']) ? data['message'] : {};
        this.startUsage = message['usage'];
        const meta: StreamPart = { type: 'response-meta' };
        if (typeof message['id'] === 'string') meta.id = message['id'];
        if (typeof message['model'] === 'string') meta.model = message['model'];
        return [meta];
      }
      case 'content_block_start':
        return this.startBlock(data);
      case 'content_block_delta':
        return this.delta(data);
      case 'content_block_stop':
        return [];
      case 'message_delta': {
        const delta = isRecord(data['delta']) ? data['delta'] : {};
        const output = isRecord(data['usage']) && typeof data['usage']['output_tokens'] === 'number' ? data['usage']['output_tokens'] : 0;
        const usage: Usage = anthropicUsage(
          { ...(isRecord(this.startUsage) ? this.startUsage : {}), ...(isRecord(data['usage']) ? data['usage'] : {}) },
          output,
        );
        let reason = mapAnthropicStopReason(delta['stop_reason'] as string | undefined);
        if (this.jsonViaTool && reason === 'tool_calls' && this.nextToolIndex === 0) reason = 'stop';
        return [
          { type: 'usage', usage },
          { type: 'finish', choice: 0, reason },
        ];
      }
      case 'message_stop':
        this.finished = true;
        return [];
      case 'error':
        throw streamError(this.provider, data['error']);
      default:
        return [];
    }
  }

  private startBlock(data: Record<string, unknown>): StreamPart[] {
    const index = Number(data['index']);
    const block = isRecord(data['content_block']) ? data['content_block'] : {};
    if (block['type'] === 'text') {
      this.blocks.set(index, { kind: 'text' });
      return typeof block['text'] === 'string' && block['text'] ? [{ type: 'text-delta', choice: 0, text: block['text'] }] : [];
    }
    if (block['type'] === 'tool_use') {
      if (this.jsonViaTool && block['name'] === jsonSchemaToolName) {
        this.blocks.set(index, { kind: 'json' });
        return [];
      }
      const toolIndex = this.nextToolIndex++;
      this.blocks.set(index, { kind: 'tool', index: toolIndex });
      return [{ type: 'tool-call-start', choice: 0, index: toolIndex, id: String(block['id']), name: String(block['name']) }];
    }
    this.blocks.set(index, { kind: 'ignored' });
    return [];
  }

  private delta(data: Record<string, unknown>): StreamPart[] {
    const state = this.blocks.get(Number(data['index']));
    const delta = isRecord(data['delta']) ? data['delta'] : {};
    if (!state) throw malformedUpstream(this.provider, `a delta for content block ${String(data['index'])}, which never started`);
    if (delta['type'] === 'text_delta' && state.kind === 'text' && typeof delta['text'] === 'string') {
      return delta['text'] ? [{ type: 'text-delta', choice: 0, text: delta['text'] }] : [];
    }
    if (delta['type'] === 'input_json_delta' && typeof delta['partial_json'] === 'string' && delta['partial_json'] !== '') {
      if (state.kind === 'tool') return [{ type: 'tool-call-delta', choice: 0, index: state.index, argumentsDelta: delta['partial_json'] }];
      if (state.kind === 'json') return [{ type: 'text-delta', choice: 0, text: delta['partial_json'] }];
    }
    return [];
  }
}

/** Anthropic's in-stream (or error-body) `error` object as a ProviderError. */
export function streamError(provider: string, error: unknown): ProviderError {
  const record = isRecord(error) ? error : {};
  const type = typeof record['type'] === 'string' ? record['type'] : 'api_error';
  const message = typeof record['message'] === 'string' ? record['message'] : 'unknown error';
  const retryable = type === 'overloaded_error' || type === 'api_error' || type === 'rate_limit_error';
  return new ProviderError(ErrorCode.upstreamError, `Provider '${provider}' failed mid-stream (${type}): ${message}`, {
    status: type === 'overloaded_error' ? 503 : 502,
    provider,
    upstreamMessage: message,
    isRetryable: retryable,
  });
}
