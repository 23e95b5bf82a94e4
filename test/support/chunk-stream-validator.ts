import { z } from 'zod';

/**
 * Checks a whole OpenAI chat-completion SSE stream, chunk by chunk and as a sequence, against what
 * OpenAI's API does and clients (the openai SDK, LangChain, Vercel AI SDK) rely on. Every e2e stream
 * test runs its raw SSE body through it, for every provider kind.
 */

const toolCallDelta = z.strictObject({
  index: z.number().int().nonnegative(),
  id: z.string().min(1).optional(),
  type: z.literal('function').optional(),
  function: z.strictObject({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
});

const usage = z.looseObject({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
});

const chunkSchema = z.looseObject({
  id: z.string().min(1),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int().positive(),
  model: z.string().min(1),
  choices: z.array(
    z.looseObject({
      index: z.number().int().nonnegative(),
      delta: z.looseObject({
        role: z.literal('assistant').optional(),
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        tool_calls: z.array(toolCallDelta).optional(),
      }),
      finish_reason: z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']).nullable(),
    }),
  ),
  usage: usage.nullish(),
});

export interface ValidatedStream {
  chunks: z.infer<typeof chunkSchema>[];
  /** Text per choice. */
  text: string[];
  /** Tool calls per choice, assembled. */
  toolCalls: { id: string; name: string; arguments: string }[][];
  finishReasons: (string | null)[];
  usage: z.infer<typeof usage> | undefined;
}

/** Parses and validates an SSE body; throws an Error naming the first rule broken and the chunk. */
export function validateChunkStream(body: string, options: { includeUsage?: boolean } = {}): ValidatedStream {
  const events = body
    .split(/\n\n/)
    .map((frame) => frame.trim())
    .filter((frame) => frame.length > 0 && !frame.startsWith(':'));
  if (events.at(-1) !== 'data: [DONE]') throw new Error(`stream does not end with data: [DONE] (last: ${events.at(-1)})`);
  const result: ValidatedStream = { chunks: [], text: [], toolCalls: [], finishReasons: [], usage: undefined };
  const started = new Set<number>();
  const finished = new Set<number>();
  const toolIds = new Map<string, string>();
  let identity: string | undefined;
  for (const [position, event] of events.slice(0, -1).entries()) {
    if (!event.startsWith('data: ')) throw new Error(`frame ${position} is not a data frame: ${event.slice(0, 80)}`);
    const parsed = chunkSchema.safeParse(JSON.parse(event.slice(6)));
    if (!parsed.success) throw new Error(`chunk ${position} breaks the chunk schema: ${parsed.error.message}\n${event}`);
    const chunk = parsed.data;
    const fingerprint = `${chunk.id}|${chunk.model}|${chunk.created}`;
    identity ??= fingerprint;
    if (fingerprint !== identity) throw new Error(`chunk ${position} changes id/model/created: ${fingerprint} vs ${identity}`);
    if (result.usage) throw new Error(`chunk ${position} comes after the usage-only chunk`);
    if (chunk.choices.length === 0) {
      if (!chunk.usage) throw new Error(`chunk ${position} has no choices and no usage`);
      result.usage = chunk.usage;
      continue;
    }
    if (chunk.usage) throw new Error(`chunk ${position} carries usage alongside choices`);
    for (const choice of chunk.choices) {
      const index = choice.index;
      if (finished.has(index)) throw new Error(`chunk ${position}: choice ${index} continues after its finish_reason`);
      if (!started.has(index)) {
        if (choice.delta.role !== 'assistant')
          throw new Error(`chunk ${position}: the first delta of choice ${index} has no role "assistant"`);
        started.add(index);
      }
      result.text[index] = (result.text[index] ?? '') + (choice.delta.content ?? '');
      const calls = (result.toolCalls[index] ??= []);
      for (const call of choice.delta.tool_calls ?? []) {
        const key = `${index}:${call.index}`;
        const existing = calls[call.index];
        if (!existing) {
          if (!call.id || call.type !== 'function' || !call.function?.name) {
            throw new Error(`chunk ${position}: the first delta of tool call ${key} lacks id, type or function.name`);
          }
          if ([...toolIds.values()].includes(call.id))
            throw new Error(`chunk ${position}: tool call id ${call.id} reused by another index`);
          if (call.index !== calls.length)
            throw new Error(`chunk ${position}: tool call index ${call.index} skips (expected ${calls.length})`);
          toolIds.set(key, call.id);
          calls[call.index] = { id: call.id, name: call.function.name, arguments: call.function.arguments ?? '' };
        } else {
          if (call.id !== undefined && call.id !== toolIds.get(key)) throw new Error(`chunk ${position}: tool call ${key} changed its id`);
          existing.arguments += call.function?.arguments ?? '';
        }
      }
      if (choice.finish_reason) {
        finished.add(index);
        result.finishReasons[index] = choice.finish_reason;
        if (choice.finish_reason === 'tool_calls' && calls.length === 0) {
          throw new Error(`chunk ${position}: finish_reason tool_calls on choice ${index} with no tool call`);
        }
      }
    }
    result.chunks.push(chunk);
  }
  for (const index of started) if (!finished.has(index)) throw new Error(`choice ${index} never got a finish_reason`);
  if (options.includeUsage === true && !result.usage) throw new Error('include_usage was asked for but no usage-only chunk came');
  if (options.includeUsage === false && result.usage) throw new Error('a usage-only chunk came although include_usage was not asked for');
  return result;
}
