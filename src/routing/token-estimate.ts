import { createRequire } from 'node:module';
import type { ChatRequest } from '../core/chat.js';
import { contentText } from '../core/chat.js';

type CountTokens = (text: string) => number;
let countTokens: CountTokens | undefined;

/**
 * Loads the tokenizer. Its BPE table costs ~300 ms and ~70 MB, so it is loaded on first need (or at
 * start-up when the configuration ranks by cost on every request, see `container.ts`), not at import.
 */
export function loadTokenizer(): CountTokens {
  countTokens ??= (createRequire(import.meta.url)('gpt-tokenizer') as { countTokens: CountTokens }).countTokens;
  return countTokens;
}

/** Tokens a message costs beyond its text (role and separators), as OpenAI counts them. */
const perMessageOverhead = 4;

/**
 * The prompt's size in tokens, counted with OpenAI's o200k tokenizer (other providers' tokenizers differ
 * by a few percent: good enough to rank by cost and to keep a long prompt off a short-context model).
 * Images count a flat 765 tokens (a high-detail 512×512 tile set); tool definitions count as text.
 * `exact: false` skips tokenizing when only an upper bound is needed and characters give one.
 */
export function estimatePromptTokens(request: ChatRequest): number {
  let text = '';
  let extra = 0;
  for (const message of request.messages) {
    extra += perMessageOverhead;
    const content = 'content' in message ? message.content : null;
    if (Array.isArray(content)) {
      for (const part of content) if (part.type === 'image_url') extra += 765;
    }
    text += contentText(content as never);
    if (message.role === 'assistant' && message.tool_calls) text += JSON.stringify(message.tool_calls);
  }
  if (request.tools) text += JSON.stringify(request.tools);
  return loadTokenizer()(text) + extra;
}

/** A cheap upper bound: a token is at least one character, so characters bound tokens from above. */
export function promptCharacters(request: ChatRequest): number {
  let characters = 0;
  for (const message of request.messages) {
    const content = 'content' in message ? message.content : null;
    characters += contentText(content as never).length + perMessageOverhead;
    if (Array.isArray(content)) for (const part of content) if (part.type === 'image_url') characters += 765;
    if (message.role === 'assistant' && message.tool_calls) characters += JSON.stringify(message.tool_calls).length;
  }
  if (request.tools) characters += JSON.stringify(request.tools).length;
  return characters;
}
