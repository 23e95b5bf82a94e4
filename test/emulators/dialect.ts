import type { ResolvedReply } from './scenario.js';

/** An operation an emulator recognised on a request. */
export type Operation = { op: 'chat'; stream: boolean; model: string } | { op: 'embed'; model: string } | { op: 'models' };

export interface ErrorAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** One provider's wire format, as the emulator speaks it. */
export interface Dialect {
  route(method: string, path: string, query: Record<string, string>, body: unknown): Operation | ErrorAnswer;
  /** Undefined when authorised, else the provider's 401. */
  checkAuth(headers: Record<string, string>, query: Record<string, string>, apiKey: string): ErrorAnswer | undefined;
  error(status: number, message: string): unknown;
  contextLengthError(): ErrorAnswer;
  notFound(path: string): ErrorAnswer;
  chat(reply: ResolvedReply, body: unknown): unknown;
  streamContentType: string;
  /** The complete stream as frames (each ends with its own delimiter). */
  streamFrames(reply: ResolvedReply, body: unknown): string[];
  /** The in-stream error frames (and what ends the stream after them). */
  streamErrorFrames(): string[];
  brokenFrame(): string;
  /** The embeddings answer; `body` is the request (OpenAI honours `encoding_format: "base64"`). */
  embed(inputs: string[], model: string, vectors: number[][], body: unknown): unknown;
  /** Inputs of an embedding request. */
  embedInputs(body: unknown): string[];
  models(ids: string[]): unknown;
}

export function isErrorAnswer(value: Operation | ErrorAnswer): value is ErrorAnswer {
  return 'status' in value;
}

export function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
