import type { FinishReason } from './chat.js';
import type { Usage } from './usage.js';

/**
 * One event of a completion stream, whatever the upstream's wire format.
 *
 * Provider codecs turn their upstream's events into these parts; `streaming/chunk-encoder.ts` turns them
 * into OpenAI chunks. An OpenAI-dialect upstream may hand its chunks over as `raw-chunks` (already valid
 * OpenAI JSON, every chunk of one network read in one part) so the hot path neither re-serialises them
 * nor pays an async step per chunk in each stream layer. Tool calls are numbered per choice from 0 in
 * the order they start, and that `index` stays the same for every part of the call.
 */
export type StreamPart =
  | { type: 'response-meta'; id?: string; model?: string; created?: number }
  | { type: 'text-delta'; choice: number; text: string }
  | { type: 'tool-call-start'; choice: number; index: number; id: string; name: string }
  | { type: 'tool-call-delta'; choice: number; index: number; argumentsDelta: string }
  | { type: 'finish'; choice: number; reason: FinishReason }
  /** `json`: the upstream's own usage-only OpenAI chunk, when it can be forwarded as is; `costUsd` added by metering. */
  | { type: 'usage'; usage: Usage; json?: string; costUsd?: number }
  /**
   * OpenAI chunks' JSON texts (one or more, in order), forwarded as is; `hasContent`: one of them carries
   * content (the commit point). Only the first content matters, so after it the chunks are not scanned and
   * every later batch of the stream says true.
   */
  | { type: 'raw-chunks'; chunks: readonly string[]; hasContent: boolean };

/** True for the parts that put content in front of the client (the stream's commit point). */
export function isContentPart(part: StreamPart): boolean {
  switch (part.type) {
    case 'text-delta':
      return part.text.length > 0;
    case 'tool-call-start':
    case 'tool-call-delta':
      return true;
    case 'raw-chunks':
      return part.hasContent;
    case 'response-meta':
    case 'finish':
    case 'usage':
      return false;
  }
}
