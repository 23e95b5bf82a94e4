import type { ChatChunk, ChunkToolCallDelta } from '../core/chat.js';
import type { StreamPart } from '../core/stream-part.js';
import { toOpenAIUsage } from '../core/usage.js';
import type { Usage } from '../core/usage.js';
import { withUsageCost } from './usage-cost.js';

export interface ChunkEncoderOptions {
  id: string;
  model: string;
  created: number;
  /** The client asked for `stream_options.include_usage`: send the usage-only chunk at the end. */
  includeUsage: boolean;
}

/**
 * Turns stream parts into OpenAI `chat.completion.chunk` JSON texts, enforcing the contract clients rely
 * on: the first delta of each choice carries `role: "assistant"`, tool calls keep the index they started
 * with and their first delta carries id, type and name, the finish reason comes in its own chunk, and
 * the usage-only chunk (`choices: []`) comes last, only when asked for. `raw-chunks` parts are already
 * OpenAI JSON and pass through untouched.
 */
export class ChunkEncoder {
  private id: string;
  private model: string;
  private created: number;
  private readonly includeUsage: boolean;
  private readonly startedChoices = new Set<number>();
  private usage: Usage | undefined;
  private usageJson: string | undefined;
  private costUsd: number | undefined;

  constructor(options: ChunkEncoderOptions) {
    this.id = options.id;
    this.model = options.model;
    this.created = options.created;
    this.includeUsage = options.includeUsage;
  }

  /** The usage the stream reported, if any (for metering). */
  get reportedUsage(): Usage | undefined {
    return this.usage;
  }

  /** The model the upstream said answered (for the `x-cb-model` header and the ledger). */
  get answeringModel(): string {
    return this.model;
  }

  /** The JSON texts of the chunks this part produces (often one, sometimes none). */
  encode(part: StreamPart): readonly string[] {
    switch (part.type) {
      case 'raw-chunks':
        return part.chunks;
      case 'response-meta':
        if (part.id) this.id = part.id;
        if (part.model) this.model = part.model;
        if (part.created) this.created = part.created;
        return [];
      case 'usage':
        this.usage = part.usage;
        this.usageJson = part.json;
        this.costUsd = part.costUsd;
        return [];
      case 'text-delta':
        return [this.chunk(part.choice, { content: part.text }, null)];
      case 'tool-call-start': {
        const call: ChunkToolCallDelta = { index: part.index, id: part.id, type: 'function', function: { name: part.name, arguments: '' } };
        return [this.chunk(part.choice, { tool_calls: [call] }, null)];
      }
      case 'tool-call-delta':
        return [this.chunk(part.choice, { tool_calls: [{ index: part.index, function: { arguments: part.argumentsDelta } }] }, null)];
      case 'finish':
        return [this.chunk(part.choice, {}, part.reason)];
    }
  }

  /** The chunks that close the stream: the usage-only chunk when the client asked for it. */
  finish(): string[] {
    if (!this.includeUsage || !this.usage) return [];
    if (this.usageJson !== undefined) return [this.costUsd === undefined ? this.usageJson : withUsageCost(this.usageJson, this.costUsd)];
    const usage = this.costUsd === undefined ? toOpenAIUsage(this.usage) : { ...toOpenAIUsage(this.usage), cost: this.costUsd };
    const chunk: ChatChunk = { ...this.envelope(), choices: [], usage };
    return [JSON.stringify(chunk)];
  }

  private chunk(
    choice: number,
    delta: ChatChunk['choices'][number]['delta'],
    finishReason: ChatChunk['choices'][number]['finish_reason'],
  ): string {
    if (!this.startedChoices.has(choice)) {
      this.startedChoices.add(choice);
      delta = { role: 'assistant', ...(delta.content === undefined && delta.tool_calls === undefined ? { content: '' } : {}), ...delta };
    }
    const chunk: ChatChunk = { ...this.envelope(), choices: [{ index: choice, delta, finish_reason: finishReason }] };
    if (this.includeUsage) chunk.usage = null;
    return JSON.stringify(chunk);
  }

  private envelope(): Pick<ChatChunk, 'id' | 'object' | 'created' | 'model'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }
}
