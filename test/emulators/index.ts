import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicDialect } from './anthropic-dialect.js';
import type { Dialect, ErrorAnswer } from './dialect.js';
import { isErrorAnswer } from './dialect.js';
import { geminiDialect } from './gemini-dialect.js';
import { ollamaDialect } from './ollama-dialect.js';
import { openAIDialect } from './openai-dialect.js';
import { lastUserText, resolveReply, vectorFor } from './scenario.js';
import type { EmulatorKind, ResolvedReply, ScriptedReply } from './scenario.js';

export type { EmulatorKind, Fault, ScriptedReply } from './scenario.js';

/** One request as the emulator received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  rawBody: string;
  /** True once the connection closed before the answer was complete: the caller cancelled it (or a fault cut it). */
  closedEarly: boolean;
}

/**
 * An LLM provider's API on a loopback port, speaking its real wire format (OpenAI, Azure OpenAI,
 * Anthropic, Gemini or Ollama), answering scripted replies and injecting faults, and recording every
 * request. Tests check it against the providers' official SDKs (`*.test.ts` beside it).
 */
export interface Emulator {
  readonly kind: EmulatorKind;
  /** The base URL a user would configure (OpenAI: with `/v1`; the others: the bare origin). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Replies consumed first in, first out, one per chat request. */
  enqueue(...replies: ScriptedReply[]): void;
  /** The reply when the queue is empty; a function gets the body and the model the request names (path or body). */
  setDefault(reply: ScriptedReply | ((body: unknown, model: string) => ScriptedReply)): void;
  /** Changes the model list at run time (what `/v1/models`, `/api/tags`… answer from now on). */
  setModels(ids: string[]): void;
  /**
   * Stops listening (and drops open connections), so new connections are refused — a provider that is
   * down — until `acceptConnections()` listens again on the same port.
   */
  refuseConnections(): Promise<void>;
  acceptConnections(): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

const defaultModels: Record<EmulatorKind, string[]> = {
  openai: ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'],
  azure: ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'],
  anthropic: ['claude-3-5-sonnet-latest', 'claude-3-5-haiku-latest'],
  gemini: ['gemini-2.0-flash', 'gemini-1.5-pro', 'text-embedding-004'],
  ollama: ['llama3.2', 'nomic-embed-text'],
};

const dialects: Record<EmulatorKind, () => Dialect> = {
  openai: () => openAIDialect(false),
  azure: () => openAIDialect(true),
  anthropic: anthropicDialect,
  gemini: geminiDialect,
  ollama: ollamaDialect,
};

const callPrefixes: Record<EmulatorKind, string> = { openai: 'call_', azure: 'call_', anthropic: 'toolu_', gemini: 'fc_', ollama: 'call_' };

/** Starts an emulator on 127.0.0.1 and a free port. */
export async function startEmulator(options: {
  kind: EmulatorKind;
  apiKey?: string;
  models?: string[];
  embeddingDimensions?: number;
}): Promise<Emulator> {
  const { kind } = options;
  const dialect = dialects[kind]();
  let models = options.models ?? defaultModels[kind];
  const dimensions = options.embeddingDimensions ?? 8;
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  let fallback: ScriptedReply | ((body: unknown, model: string) => ScriptedReply) | undefined;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const sendJson = (response: ServerResponse, answer: ErrorAnswer): void => {
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    response.end(JSON.stringify(answer.body));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, rawBody: string): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://emulator');
    const query = Object.fromEntries(url.searchParams.entries());
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]),
    );
    let body: unknown;
    try {
      body = rawBody ? (JSON.parse(rawBody) as unknown) : undefined;
    } catch {
      // an unparsable body stays undefined and is answered with the provider's 400 below
    }
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query,
      headers,
      body,
      rawBody,
      closedEarly: false,
    };
    requests.push(recorded);
    response.once('close', () => {
      if (!response.writableFinished) recorded.closedEarly = true;
    });
    if (rawBody && body === undefined) {
      sendJson(response, { status: 400, body: dialect.error(400, 'We could not parse the JSON body of your request.') });
      return;
    }
    if (options.apiKey !== undefined) {
      const denied = dialect.checkAuth(headers, query, options.apiKey);
      if (denied) return sendJson(response, denied);
    }
    const operation = dialect.route(request.method ?? 'GET', url.pathname, query, body);
    if (isErrorAnswer(operation)) return sendJson(response, operation);
    if (operation.op === 'models') return sendJson(response, { status: 200, body: dialect.models(models) });
    if (operation.op === 'embed') {
      const inputs = dialect.embedInputs(body);
      return sendJson(response, {
        status: 200,
        body: dialect.embed(
          inputs,
          operation.model,
          inputs.map((input) => vectorFor(input, dimensions)),
          body,
        ),
      });
    }
    const scripted = queue.shift() ?? (typeof fallback === 'function' ? fallback(body, operation.model) : fallback) ?? {};
    const reply = resolveReply(scripted, kind, lastUserText(body), operation.model, callPrefixes[kind]);
    await answerChat(response, reply, body, operation.stream);
  };

  const answerChat = async (response: ServerResponse, reply: ResolvedReply, body: unknown, stream: boolean): Promise<void> => {
    const fault = reply.fault;
    switch (fault?.type) {
      case 'delay':
        await sleep(fault.ms);
        break;
      case 'status':
        return sendJson(response, {
          status: fault.status,
          body: dialect.error(fault.status, fault.message ?? `Emulated failure with status ${fault.status}`),
          ...(fault.retryAfter ? { headers: { 'retry-after': fault.retryAfter } } : {}),
        });
      case 'context-length':
        return sendJson(response, dialect.contextLengthError());
      case 'reset-before-headers':
        response.socket?.destroy();
        return;
      case 'stall-after-headers':
        response.writeHead(200, { 'content-type': stream ? dialect.streamContentType : 'application/json' });
        response.flushHeaders();
        return;
      default:
        break;
    }
    if (!stream) {
      const text = JSON.stringify(dialect.chat(reply, body));
      if (fault?.type === 'malformed-json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(text.slice(0, Math.floor(text.length / 2)));
        return;
      }
      if (fault?.type === 'cut-mid-stream') {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
        response.write(text.slice(0, Math.floor(text.length / 2)));
        await sleep(20);
        response.socket?.destroy();
        return;
      }
      if (fault?.type === 'slow-trickle') await sleep(fault.intervalMs);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(text);
      return;
    }
    let frames = dialect.streamFrames(reply, body);
    if (fault?.type === 'stream-error-event')
      frames = [...frames.slice(0, Math.min(frames.length - 1, firstContentFrame(kind) + 1)), ...dialect.streamErrorFrames()];
    if (fault?.type === 'malformed-json') {
      // After the first content frame by default; `beforeContent` garbles the stream before any content.
      const at = fault.beforeContent ? firstContentFrame(kind) : firstContentFrame(kind) + 1;
      frames = [...frames.slice(0, at), dialect.brokenFrame(), ...frames.slice(at)];
    }
    response.writeHead(200, { 'content-type': dialect.streamContentType, 'cache-control': 'no-cache' });
    const cutAfter = fault?.type === 'cut-mid-stream' ? (fault.afterEvents ?? 2) : Number.POSITIVE_INFINITY;
    for (const [index, frame] of frames.entries()) {
      if (index >= cutAfter) {
        await sleep(20);
        response.socket?.destroy();
        return;
      }
      if (fault?.type === 'slow-trickle' && index > 0) await sleep(fault.intervalMs);
      if (response.destroyed) return;
      response.write(frame);
    }
    response.end();
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      handle(request, response, Buffer.concat(chunks).toString('utf8')).catch((error: unknown) => {
        if (!response.headersSent) sendJson(response, { status: 500, body: dialect.error(500, `emulator failure: ${String(error)}`) });
        else response.destroy();
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    kind,
    url: kind === 'openai' ? `${origin}/v1` : origin,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    setDefault: (reply) => {
      fallback = reply;
    },
    setModels: (ids) => {
      models = [...ids];
    },
    refuseConnections: async () => {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    acceptConnections: async () => {
      if (server.listening) return;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
    reset: () => {
      queue.length = 0;
      fallback = undefined;
      requests.length = 0;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Index of the first frame that carries content (after the provider's preamble frames). */
function firstContentFrame(kind: EmulatorKind): number {
  switch (kind) {
    case 'openai':
      return 1;
    case 'azure':
      return 2;
    case 'anthropic':
      return 3;
    case 'gemini':
    case 'ollama':
      return 0;
  }
}
