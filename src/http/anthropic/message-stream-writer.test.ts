import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ProviderError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { noRedaction } from '../../core/redact.js';
import type { StreamPart } from '../../core/stream-part.js';
import { AnthropicEventEncoder } from '../../streaming/anthropic-event-encoder.js';
import { validateMessageStream } from '../../../test/support/anthropic-stream-validator.js';
import { writeMessageStream } from './message-stream-writer.js';

/** Just enough of a ServerResponse to watch what the writer sends, and when. */
class FakeResponse extends EventEmitter {
  status: number | undefined;
  headers: Record<string, string> = {};
  body = '';
  writableFinished = false;
  headersSent = false;
  destroyed = false;
  writeHead(status: number, headers: Record<string, string>) {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }
  write(text: string) {
    this.body += text;
    return true;
  }
  end(text = '') {
    this.body += text;
    this.writableFinished = true;
  }
  destroy() {
    this.destroyed = true;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function run(
  stream: AsyncIterable<StreamPart>,
  response = new FakeResponse(),
  abort = new AbortController(),
  keepAliveIntervalMs = 60_000,
) {
  const outcome = writeMessageStream({
    response: response as unknown as ServerResponse,
    stream,
    encoder: new AnthropicEventEncoder({ id: 'msg_t', model: 'm' }),
    headers: () => ({ 'x-cb-provider': 'openai', 'x-cb-attempts': '1' }),
    pendingHeaders: () => ({ 'x-cb-provider': 'pending' }),
    keepAliveIntervalMs,
    abort,
    requestId: 'req_t',
    logger: silentLogger,
    redact: noRedaction,
  });
  return { response, outcome, abort };
}

const failure = new ProviderError(ErrorCode.upstreamError, 'Provider openai failed mid-stream: boom', { status: 502, provider: 'openai' });

describe('writeMessageStream', () => {
  it('sends nothing before the first content, then the headers and a valid stream', async () => {
    const response = new FakeResponse();
    const seenBeforeContent: string[] = [];
    const { outcome } = run(
      (async function* () {
        yield { type: 'response-meta', model: 'gpt-4o' } as StreamPart;
        seenBeforeContent.push(response.body, String(response.headersSent));
        yield { type: 'text-delta', choice: 0, text: 'hi' } as StreamPart;
        yield { type: 'finish', choice: 0, reason: 'stop' } as StreamPart;
      })(),
      response,
    );
    expect(await outcome).toBe('completed');
    expect(seenBeforeContent).toEqual(['', 'false']);
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({ 'content-type': 'text/event-stream; charset=utf-8', 'x-cb-provider': 'openai' });
    expect(validateMessageStream(response.body)).toMatchObject({ text: 'hi', model: 'gpt-4o', stopReason: 'end_turn' });
  });

  it('throws a failure before the first content, with nothing sent, so the route can answer a plain HTTP error', async () => {
    const { response, outcome } = run(
      (async function* () {
        yield { type: 'response-meta' } as StreamPart;
        throw failure;
      })(),
    );
    await expect(outcome).rejects.toBe(failure);
    expect(response.headersSent).toBe(false);
    expect(response.body).toBe('');
  });

  it('ends a stream that fails after its first content with an error event, in Anthropic shape', async () => {
    const { response, outcome } = run(
      (async function* () {
        yield { type: 'text-delta', choice: 0, text: 'partial' } as StreamPart;
        throw failure;
      })(),
    );
    expect(await outcome).toBe('failed');
    const stream = validateMessageStream(response.body, { allowError: true });
    expect(stream.text).toBe('partial');
    expect(stream.error).toEqual({ type: 'api_error', message: 'Provider openai failed mid-stream: boom' });
    expect(response.body).not.toContain('message_stop');
    expect(response.writableFinished).toBe(true);
  });

  it('sends ping events during a silence before the first content, with pending headers, then the routing facts', async () => {
    const { response, outcome } = run(
      (async function* () {
        await sleep(250);
        yield { type: 'text-delta', choice: 0, text: 'late' } as StreamPart;
      })(),
      new FakeResponse(),
      new AbortController(),
      60,
    );
    expect(await outcome).toBe('completed');
    expect(response.headers['x-cb-provider']).toBe('pending');
    const stream = validateMessageStream(response.body);
    expect(stream.pings).toBeGreaterThanOrEqual(1);
    expect(stream.text).toBe('late');
    // the facts the early headers could not carry come once, before the first event
    expect(response.body.indexOf(': x-cb-provider=openai\n: x-cb-attempts=1\n\n')).toBeLessThan(response.body.indexOf('message_start'));
    expect(response.body.match(/x-cb-provider=/g)).toHaveLength(1);
  });

  it('aborts the upstream when the client leaves, and reports client_closed', async () => {
    const response = new FakeResponse();
    const abort = new AbortController();
    const { outcome } = run(
      (async function* () {
        yield { type: 'text-delta', choice: 0, text: 'first' } as StreamPart;
        response.emit('close');
        // the upstream read fails once the request is aborted
        await sleep(5);
        if (abort.signal.aborted) throw abort.signal.reason;
        yield { type: 'text-delta', choice: 0, text: 'never' } as StreamPart;
      })(),
      response,
      abort,
    );
    expect(await outcome).toBe('client_closed');
    expect(abort.signal.aborted).toBe(true);
    expect(response.destroyed).toBe(true);
    expect(response.body).not.toContain('never');
  });
});
