import { ErrorCode, ProviderError } from '../../core/errors.js';
import type { StreamPart } from '../../core/stream-part.js';
import { isRecord, parseUpstreamJson } from '../shared/json.js';
import { malformedUpstream } from '../shared/upstream-error.js';
import { createdOf, mapOllamaDoneReason, ollamaToolCalls, ollamaUsage } from './convert-response.js';

/**
 * Ollama NDJSON lines → stream parts. Tool calls arrive whole, one line carrying one or several; each
 * becomes a start and one delta with its full arguments, numbered across lines. The `done: true` line
 * closes the stream with the finish reason and the token counts.
 */
export class OllamaStreamDecoder {
  private started = false;
  private toolCount = 0;
  private finished = false;

  constructor(private readonly provider: string) {}

  get complete(): boolean {
    return this.finished;
  }

  decode(line: string): StreamPart[] {
    const body = parseUpstreamJson(this.provider, line);
    if (!isRecord(body)) throw malformedUpstream(this.provider, 'a stream line is not a JSON object');
    if (body['error'] !== undefined) {
      const message = String(body['error']);
      throw new ProviderError(ErrorCode.upstreamError, `Provider '${this.provider}' failed mid-stream: ${message}`, {
        status: 502,
        provider: this.provider,
        upstreamMessage: message,
        isRetryable: true,
      });
    }
    const parts: StreamPart[] = [];
    if (!this.started) {
      this.started = true;
      parts.push({
        type: 'response-meta',
        ...(typeof body['model'] === 'string' ? { model: body['model'] } : {}),
        created: createdOf(body),
      });
    }
    const message = isRecord(body['message']) ? body['message'] : {};
    if (typeof message['content'] === 'string' && message['content'] !== '')
      parts.push({ type: 'text-delta', choice: 0, text: message['content'] });
    for (const call of ollamaToolCalls(message)) {
      const index = this.toolCount++;
      parts.push({ type: 'tool-call-start', choice: 0, index, id: call.id, name: call.function.name });
      parts.push({ type: 'tool-call-delta', choice: 0, index, argumentsDelta: call.function.arguments });
    }
    if (body['done'] === true) {
      this.finished = true;
      parts.push({ type: 'usage', usage: ollamaUsage(body) });
      parts.push({ type: 'finish', choice: 0, reason: mapOllamaDoneReason(body['done_reason'], this.toolCount > 0) });
    }
    return parts;
  }
}
