import { z } from 'zod';

/**
 * Checks a whole Anthropic Messages SSE stream, event by event and as a sequence, against what
 * Anthropic's API does and its clients (the @anthropic-ai/sdk accumulator, Claude Code) rely on: every
 * frame is a named event whose `data.type` repeats the name; `message_start` comes first; content blocks
 * are numbered 0, 1, 2… and never interleave (start, deltas of the block's own kind, stop); a tool
 * block's `input_json_delta` fragments join into a JSON object; `message_delta` (stop reason, usage) comes
 * once after the last block and `message_stop` ends the stream; `tool_use` is the stop reason exactly
 * when the answer has tool calls (or `max_tokens` cut one). An `error` event may only be the last frame.
 */

const usage = z.looseObject({ input_tokens: z.number().int().nonnegative(), output_tokens: z.number().int().nonnegative() });
const cacheCounts = z.looseObject({
  cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
  cache_read_input_tokens: z.number().int().nonnegative().nullish(),
});

const events = {
  ping: z.strictObject({ type: z.literal('ping') }),
  message_start: z.strictObject({
    type: z.literal('message_start'),
    message: z.looseObject({
      id: z.string().regex(/^msg_/),
      type: z.literal('message'),
      role: z.literal('assistant'),
      model: z.string().min(1),
      content: z.array(z.unknown()).length(0),
      stop_reason: z.null(),
      stop_sequence: z.null(),
      usage: usage.and(cacheCounts),
    }),
  }),
  content_block_start: z.strictObject({
    type: z.literal('content_block_start'),
    index: z.number().int().nonnegative(),
    content_block: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('text'), text: z.literal('') }),
      z.strictObject({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.strictObject({}) }),
    ]),
  }),
  content_block_delta: z.strictObject({
    type: z.literal('content_block_delta'),
    index: z.number().int().nonnegative(),
    delta: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('text_delta'), text: z.string().min(1) }),
      z.strictObject({ type: z.literal('input_json_delta'), partial_json: z.string() }),
    ]),
  }),
  content_block_stop: z.strictObject({ type: z.literal('content_block_stop'), index: z.number().int().nonnegative() }),
  message_delta: z.strictObject({
    type: z.literal('message_delta'),
    delta: z.strictObject({
      stop_reason: z.enum(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal']),
      stop_sequence: z.string().nullable(),
    }),
    usage: z
      .looseObject({ output_tokens: z.number().int().nonnegative(), input_tokens: z.number().int().nonnegative().nullish() })
      .and(cacheCounts),
  }),
  message_stop: z.strictObject({ type: z.literal('message_stop') }),
  error: z.looseObject({ type: z.literal('error'), error: z.strictObject({ type: z.string().min(1), message: z.string().min(1) }) }),
};

export type StreamBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface ValidatedMessageStream {
  id: string;
  model: string;
  blocks: StreamBlock[];
  /** All text blocks joined. */
  text: string;
  stopReason: string | undefined;
  /** Usage as a client ends up with it: message_start's, overwritten by message_delta's counts. */
  usage: Record<string, number>;
  pings: number;
  /** The error event's `error`, when the stream ended with one (only with `allowError`). */
  error?: { type: string; message: string };
}

/** Parses and validates an SSE body; throws an Error naming the first rule broken and the event. */
export function validateMessageStream(body: string, options: { allowError?: boolean } = {}): ValidatedMessageStream {
  const frames = body
    .split('\n\n')
    .map((frame) => frame.split('\n').filter((line) => line !== '' && !line.startsWith(':')))
    .filter((lines) => lines.length > 0);
  const result: ValidatedMessageStream = { id: '', model: '', blocks: [], text: '', stopReason: undefined, usage: {}, pings: 0 };
  let phase: 'before' | 'blocks' | 'delta' | 'stopped' = 'before';
  let open: { index: number; json: string } | undefined;
  for (const [position, lines] of frames.entries()) {
    const where = `event ${position}`;
    const name = /^event: (.+)$/.exec(lines[0] ?? '')?.[1];
    const data = /^data: (.+)$/.exec(lines[1] ?? '')?.[1];
    if (!name || data === undefined || lines.length !== 2)
      throw new Error(`${where} is not an "event:" line then one "data:" line: ${lines.join('\\n')}`);
    if (phase === 'stopped') throw new Error(`${where} (${name}) comes after message_stop`);
    const schema = events[name as keyof typeof events];
    if (!schema) throw new Error(`${where} has an unknown event name '${name}'`);
    const parsed = schema.safeParse(JSON.parse(data));
    if (!parsed.success) throw new Error(`${where} (${name}) breaks its schema: ${parsed.error.message}\n${data}`);
    const event = parsed.data as Record<string, unknown>;
    if (name === 'ping') {
      result.pings++;
      continue;
    }
    if (name === 'error') {
      if (!options.allowError) throw new Error(`${where}: the stream failed: ${data}`);
      if (position !== frames.length - 1) throw new Error(`${where}: an error event is followed by more events`);
      result.error = (event as { error: { type: string; message: string } }).error;
      return withText(result);
    }
    if (phase === 'before' && name !== 'message_start') throw new Error(`${where}: ${name} before message_start`);
    switch (name) {
      case 'message_start': {
        if (phase !== 'before') throw new Error(`${where}: a second message_start`);
        const message = (event as { message: { id: string; model: string; usage: Record<string, number> } }).message;
        Object.assign(result, { id: message.id, model: message.model, usage: { ...message.usage } });
        phase = 'blocks';
        break;
      }
      case 'content_block_start': {
        const { index, content_block: block } = event as { index: number; content_block: StreamBlock };
        if (phase !== 'blocks') throw new Error(`${where}: content_block_start after message_delta`);
        if (open) throw new Error(`${where}: block ${index} starts while block ${open.index} is open`);
        if (index !== result.blocks.length) throw new Error(`${where}: block index ${index}, expected ${result.blocks.length}`);
        result.blocks.push(block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} });
        open = { index, json: '' };
        break;
      }
      case 'content_block_delta': {
        const { index, delta } = event as { index: number; delta: { type: string; text?: string; partial_json?: string } };
        const block = result.blocks[index];
        if (!open || open.index !== index || !block) throw new Error(`${where}: a delta for block ${index}, which is not the open block`);
        if (block.type === 'text' && delta.type === 'text_delta') block.text += delta.text;
        else if (block.type === 'tool_use' && delta.type === 'input_json_delta') open.json += delta.partial_json;
        else throw new Error(`${where}: a ${delta.type} in a ${block.type} block`);
        break;
      }
      case 'content_block_stop': {
        const { index } = event as { index: number };
        const block = result.blocks[index];
        if (!open || open.index !== index || !block) throw new Error(`${where}: content_block_stop for block ${index}, which is not open`);
        if (block.type === 'tool_use') {
          const input: unknown = open.json === '' ? {} : JSON.parse(open.json);
          if (typeof input !== 'object' || input === null || Array.isArray(input))
            throw new Error(`${where}: tool block ${index}'s fragments do not join into a JSON object: ${open.json}`);
          block.input = input as Record<string, unknown>;
        }
        open = undefined;
        break;
      }
      case 'message_delta': {
        if (phase !== 'blocks') throw new Error(`${where}: a second message_delta`);
        if (open) throw new Error(`${where}: message_delta while block ${open.index} is open`);
        const { delta, usage: counts } = event as { delta: { stop_reason: string }; usage: Record<string, number | null> };
        result.stopReason = delta.stop_reason;
        for (const [key, value] of Object.entries(counts)) if (typeof value === 'number') result.usage[key] = value;
        const tools = result.blocks.filter((block) => block.type === 'tool_use').length;
        if (delta.stop_reason === 'tool_use' && tools === 0) throw new Error(`${where}: stop_reason tool_use without a tool_use block`);
        if (tools > 0 && delta.stop_reason !== 'tool_use' && delta.stop_reason !== 'max_tokens')
          throw new Error(`${where}: ${tools} tool_use block(s) but stop_reason ${delta.stop_reason}`);
        phase = 'delta';
        break;
      }
      case 'message_stop':
        if (phase !== 'delta') throw new Error(`${where}: message_stop without message_delta`);
        phase = 'stopped';
        break;
    }
  }
  if (phase !== 'stopped') throw new Error(`the stream ends without message_stop (after ${frames.length} events)`);
  return withText(result);
}

function withText(result: ValidatedMessageStream): ValidatedMessageStream {
  result.text = result.blocks.map((block) => (block.type === 'text' ? block.text : '')).join('');
  return result;
}
