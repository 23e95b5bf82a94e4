import { ErrorCode, GatewayError } from '../core/errors.js';
import type { FinishReason } from '../core/chat.js';
import type { StreamPart } from '../core/stream-part.js';
import type { Usage } from '../core/usage.js';
import { anthropicStopReason, toAnthropicUsage } from './anthropic-stop-reason.js';
import { sseEvent } from './sse-frames.js';

export interface AnthropicEventEncoderOptions {
  /** The `msg_` id of the message (an upstream `msg_` id from `response-meta` replaces it). */
  id: string;
  /** The requested model, until the upstream names the one that answers. */
  model: string;
}

type OpenBlock = { kind: 'text'; block: number } | { kind: 'tool'; block: number; tool: number };
interface HeldCall {
  tool: number;
  id: string;
  name: string;
  fragments: string[];
}

/**
 * Stream parts → Anthropic Messages SSE events: `message_start` before the first block; one text block
 * per run of text and one `tool_use` block per tool call, numbered from 0 in the order they appear, each
 * opened by `content_block_start` and closed by `content_block_stop` before the next one opens; tool
 * arguments as `input_json_delta` fragments in their order; then `message_delta` (stop reason, usage)
 * and `message_stop`. Blocks never interleave, as Anthropic's own streams: a tool call that starts while
 * another one is still open is held, with its fragments, until that one closes (the open call may still
 * receive fragments). Only choice 0 exists on this API; `raw-chunks` parts must be decoded first.
 */
export class AnthropicEventEncoder {
  private id: string;
  private model: string;
  private started = false;
  private open: OpenBlock | undefined;
  private nextBlock = 0;
  private readonly held: HeldCall[] = [];
  private readonly closedTools = new Set<number>();
  private toolCalls = 0;
  private reason: FinishReason | undefined;
  private usage: Usage | undefined;

  constructor(options: AnthropicEventEncoderOptions) {
    this.id = options.id;
    this.model = options.model;
  }

  /** The usage the stream reported, if any. */
  get reportedUsage(): Usage | undefined {
    return this.usage;
  }

  /** The SSE frames this part produces (often one, sometimes none). */
  encode(part: StreamPart): string[] {
    switch (part.type) {
      case 'response-meta':
        if (!this.started && part.id?.startsWith('msg_')) this.id = part.id;
        if (!this.started && part.model) this.model = part.model;
        return [];
      case 'usage':
        this.usage = part.usage;
        return [];
      case 'finish':
        if (part.choice === 0) this.reason = part.reason;
        return [];
      case 'text-delta':
        return part.choice === 0 && part.text !== '' ? this.text(part.text) : [];
      case 'tool-call-start':
        return part.choice === 0 ? this.toolStart(part.index, part.id, part.name) : [];
      case 'tool-call-delta':
        return part.choice === 0 && part.argumentsDelta !== '' ? this.toolDelta(part.index, part.argumentsDelta) : [];
      case 'raw-chunks':
        throw new GatewayError(ErrorCode.internal, 'raw OpenAI chunks reached the Anthropic encoder undecoded', { status: 500 });
    }
  }

  /** The frames that end a completed stream: open blocks closed, held calls sent, `message_delta`, `message_stop`. */
  finish(): string[] {
    const frames = [...this.begin(), ...this.closeAll()];
    const stopReason = anthropicStopReason(this.reason, this.toolCalls > 0);
    frames.push(event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: toAnthropicUsage(this.usage) }));
    frames.push(event('message_stop', {}));
    return frames;
  }

  private text(text: string): string[] {
    const frames = this.begin();
    if (this.open?.kind !== 'text') {
      frames.push(...this.closeAll());
      this.open = { kind: 'text', block: this.nextBlock++ };
      frames.push(event('content_block_start', { index: this.open.block, content_block: { type: 'text', text: '' } }));
    }
    frames.push(event('content_block_delta', { index: this.open.block, delta: { type: 'text_delta', text } }));
    return frames;
  }

  private toolStart(tool: number, id: string, name: string): string[] {
    this.toolCalls++;
    if (this.open?.kind === 'tool') {
      this.held.push({ tool, id, name, fragments: [] });
      return [];
    }
    const frames = [...this.begin(), ...this.closeAll()];
    frames.push(...this.openTool(tool, id, name));
    return frames;
  }

  private toolDelta(tool: number, fragment: string): string[] {
    if (this.open?.kind === 'tool' && this.open.tool === tool) return [jsonDelta(this.open.block, fragment)];
    const held = this.held.find((call) => call.tool === tool);
    if (held) {
      held.fragments.push(fragment);
      return [];
    }
    const reason = this.closedTools.has(tool) ? 'after its content block was closed by later text' : 'that never started';
    throw new GatewayError(ErrorCode.upstreamMalformed, `The provider streamed arguments for tool call ${tool} ${reason}.`, {
      status: 502,
    });
  }

  private openTool(tool: number, id: string, name: string): string[] {
    this.open = { kind: 'tool', block: this.nextBlock++, tool };
    return [event('content_block_start', { index: this.open.block, content_block: { type: 'tool_use', id, name, input: {} } })];
  }

  /** Closes the open block, then sends every held call as a block of its own. */
  private closeAll(): string[] {
    const frames: string[] = [];
    const close = (): void => {
      if (!this.open) return;
      frames.push(event('content_block_stop', { index: this.open.block }));
      if (this.open.kind === 'tool') this.closedTools.add(this.open.tool);
      this.open = undefined;
    };
    close();
    for (const call of this.held.splice(0)) {
      frames.push(...this.openTool(call.tool, call.id, call.name));
      for (const fragment of call.fragments) frames.push(jsonDelta(this.open!.block, fragment));
      close();
    }
    return frames;
  }

  private begin(): string[] {
    if (this.started) return [];
    this.started = true;
    const message = {
      id: this.id,
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: toAnthropicUsage(undefined),
    };
    return [event('message_start', { message })];
  }
}

function event(type: string, fields: Record<string, unknown>): string {
  return sseEvent(type, JSON.stringify({ type, ...fields }));
}

function jsonDelta(block: number, fragment: string): string {
  return event('content_block_delta', { index: block, delta: { type: 'input_json_delta', partial_json: fragment } });
}
