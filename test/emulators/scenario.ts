/** What an emulator answers: scripted replies, faults, and the deterministic defaults. */

export type EmulatorKind = 'openai' | 'azure' | 'anthropic' | 'gemini' | 'ollama';

export type Fault =
  | { type: 'status'; status: number; retryAfter?: string; message?: string }
  | { type: 'context-length' }
  | { type: 'reset-before-headers' }
  | { type: 'stall-after-headers' }
  | { type: 'cut-mid-stream'; afterEvents?: number }
  /** Non-stream: a truncated body. Stream: a broken frame after the first content, or before it with `beforeContent`. */
  | { type: 'malformed-json'; beforeContent?: boolean }
  | { type: 'slow-trickle'; intervalMs: number }
  | { type: 'stream-error-event' }
  | { type: 'delay'; ms: number };

export interface ScriptedReply {
  /** Assistant text, streamed one word (with its following space) per event. */
  text?: string;
  /** Parallel tool calls; arguments are streamed in several fragments where the provider does so. */
  toolCalls?: { id?: string; name: string; arguments: unknown }[];
  finish?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  usage?: { promptTokens: number; completionTokens: number; cachedTokens?: number; reasoningTokens?: number };
  fault?: Fault;
  /** The model name to echo (default: the requested one). */
  model?: string;
}

/** A reply with every default filled in, ready for a dialect to render. */
export interface ResolvedReply {
  text: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finish: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  usage: { promptTokens: number; completionTokens: number; cachedTokens?: number; reasoningTokens?: number };
  fault: Fault | undefined;
  model: string;
}

export function resolveReply(
  reply: ScriptedReply,
  kind: EmulatorKind,
  lastUserText: string,
  requestedModel: string,
  callPrefix: string,
): ResolvedReply {
  const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? `${callPrefix}${index}_${Math.random().toString(36).slice(2, 10)}`,
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
  }));
  const text = reply.text ?? (toolCalls.length > 0 ? '' : `Hello from ${kind}: ${lastUserText}`);
  return {
    text,
    toolCalls,
    finish: reply.finish ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage: reply.usage ?? {
      promptTokens: Math.max(1, Math.ceil(lastUserText.length / 4)),
      completionTokens: Math.max(1, Math.ceil(text.length / 4)),
    },
    fault: reply.fault,
    model: reply.model ?? requestedModel,
  };
}

/** Splits text into stream pieces: one word with its following whitespace each. */
export function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** Splits a JSON arguments string into a few fragments, as providers stream them. */
export function fragments(json: string): string[] {
  if (json.length <= 4) return [json];
  const size = Math.ceil(json.length / 3);
  return [json.slice(0, size), json.slice(size, 2 * size), json.slice(2 * size)].filter((piece) => piece.length > 0);
}

/** A deterministic unit-ish vector for a text. */
export function vectorFor(text: string, dimensions: number): number[] {
  let seed = 0;
  for (const char of text) seed = (seed * 31 + char.charCodeAt(0)) >>> 0;
  return Array.from({ length: dimensions }, (_, index) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return Number((((seed >>> 8) % 2000) / 1000 - 1 + index * 0).toFixed(6));
  });
}

/** The text of the last user message of a chat body in any of the five dialects. */
export function lastUserText(body: unknown): string {
  const record = (body ?? {}) as Record<string, unknown>;
  const list = (record['messages'] ?? record['contents']) as unknown[] | undefined;
  if (!Array.isArray(list)) return '';
  for (let index = list.length - 1; index >= 0; index--) {
    const message = list[index] as Record<string, unknown>;
    if (message['role'] !== 'user') continue;
    const content = message['content'] ?? message['parts'];
    if (typeof content === 'string') return content;
    if (Array.isArray(content)) {
      return content
        .map((part) =>
          typeof part === 'object' && part && typeof (part as Record<string, unknown>)['text'] === 'string'
            ? (part as Record<string, string>)['text']
            : '',
        )
        .join('');
    }
  }
  return '';
}
