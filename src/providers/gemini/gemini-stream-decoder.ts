import { ErrorCode, ProviderError } from '../../core/errors.js';
import type { StreamPart } from '../../core/stream-part.js';
import type { Usage } from '../../core/usage.js';
import { isRecord, parseUpstreamJson } from '../shared/json.js';
import { malformedUpstream } from '../shared/upstream-error.js';
import { candidateParts, geminiUsage } from './convert-response.js';
import { mapGeminiFinishReason } from './map-finish-reason.js';

/**
 * Gemini `streamGenerateContent?alt=sse` events → stream parts. Function calls arrive whole: each
 * becomes a start and one delta with its full arguments, numbered per candidate. Usage comes with the
 * last events (the last one wins) and is emitted once, at the end, with the finish reasons.
 */
export class GeminiStreamDecoder {
  private started = false;
  private readonly toolCounts = new Map<number, number>();
  private readonly finishes = new Map<number, string | undefined>();
  private usage: Usage | undefined;
  private blocked = false;

  constructor(
    private readonly provider: string,
    private readonly requestedModel: string,
  ) {}

  decode(data: string): StreamPart[] {
    const body = parseUpstreamJson(this.provider, data);
    if (!isRecord(body)) throw malformedUpstream(this.provider, 'a stream event is not a JSON object');
    if (isRecord(body['error'])) {
      const error = body['error'];
      const message = typeof error['message'] === 'string' ? error['message'] : 'unknown error';
      const code = typeof error['code'] === 'number' ? error['code'] : 500;
      throw new ProviderError(ErrorCode.upstreamError, `Provider '${this.provider}' failed mid-stream: ${message}`, {
        status: code === 503 ? 503 : 502,
        provider: this.provider,
        upstreamMessage: message,
        isRetryable: code === 429 || code >= 500,
      });
    }
    const parts: StreamPart[] = [];
    if (!this.started) {
      this.started = true;
      parts.push({ type: 'response-meta', model: typeof body['modelVersion'] === 'string' ? body['modelVersion'] : this.requestedModel });
    }
    const usage = geminiUsage(body['usageMetadata']);
    if (usage) this.usage = usage;
    const candidates = Array.isArray(body['candidates']) ? body['candidates'] : [];
    candidates.filter(isRecord).forEach((candidate, position) => {
      const choice = typeof candidate['index'] === 'number' ? candidate['index'] : position;
      const { text, calls } = candidateParts(candidate);
      if (text) parts.push({ type: 'text-delta', choice, text });
      for (const call of calls) {
        const index = this.toolCounts.get(choice) ?? 0;
        this.toolCounts.set(choice, index + 1);
        parts.push({ type: 'tool-call-start', choice, index, id: call.id, name: call.name });
        parts.push({ type: 'tool-call-delta', choice, index, argumentsDelta: call.arguments });
      }
      if (typeof candidate['finishReason'] === 'string') this.finishes.set(choice, candidate['finishReason']);
    });
    if (candidates.length === 0 && isRecord(body['promptFeedback']) && typeof body['promptFeedback']['blockReason'] === 'string')
      this.blocked = true;
    return parts;
  }

  /** The closing parts; throws when the stream ended without any finish reason (a cut stream). */
  end(): StreamPart[] {
    if (this.blocked && this.finishes.size === 0) this.finishes.set(0, 'SAFETY');
    if (this.finishes.size === 0) throw malformedUpstream(this.provider, 'the stream ended without a finish reason');
    const parts: StreamPart[] = [];
    if (this.usage) parts.push({ type: 'usage', usage: this.usage });
    for (const [choice, reason] of [...this.finishes.entries()].sort(([left], [right]) => left - right)) {
      parts.push({ type: 'finish', choice, reason: mapGeminiFinishReason(reason, (this.toolCounts.get(choice) ?? 0) > 0) });
    }
    return parts;
  }
}
