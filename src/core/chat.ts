/**
 * The chat vocabulary every part of the gateway speaks: OpenAI's Chat Completions shapes.
 *
 * OpenAI's format is the lingua franca: inbound requests arrive in it (or are converted to it, as the
 * Anthropic-compatible route does), every provider adapter converts from it, and every answer leaves in it.
 * Fields the gateway does not model are kept on the request (`[field: string]: unknown`) so an
 * OpenAI-dialect upstream still receives parameters introduced after this file was written.
 */

/** A JSON Schema object, as users write them in tool parameters and `response_format`. */
export type JsonSchema = { [key: string]: unknown };

export interface TextPart {
  type: 'text';
  text: string;
  /** Anthropic-style prompt-cache marker, passed where the provider supports it. */
  cache_control?: { type: 'ephemeral'; ttl?: string };
}

export interface ImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

/** A content part we forward untouched to OpenAI-dialect providers and refuse elsewhere (audio, files). */
export interface OtherPart {
  type: string;
  [field: string]: unknown;
}

export type ContentPart = TextPart | ImagePart | OtherPart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface SystemMessage {
  role: 'system' | 'developer';
  content: string | TextPart[];
  name?: string;
}
export interface UserMessage {
  role: 'user';
  content: string | ContentPart[];
  name?: string;
}
export interface AssistantMessage {
  role: 'assistant';
  content?: string | TextPart[] | null;
  tool_calls?: ToolCall[];
  function_call?: { name: string; arguments: string } | null;
  refusal?: string | null;
  name?: string;
}
export interface ToolMessage {
  role: 'tool';
  content: string | TextPart[];
  tool_call_id: string;
}
export interface FunctionMessage {
  role: 'function';
  content: string | null;
  name: string;
}

export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage;

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: JsonSchema; strict?: boolean | null };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; description?: string; schema?: JsonSchema; strict?: boolean | null };
    };

/** A validated `POST /v1/chat/completions` body (gateway extensions already removed). */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  /** Legacy function calling; adapters translate it to tools where the upstream has no `functions`. */
  functions?: { name: string; description?: string; parameters?: JsonSchema }[];
  function_call?: 'none' | 'auto' | { name: string };
  response_format?: ResponseFormat;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  stop?: string | string[] | null;
  n?: number | null;
  seed?: number | null;
  user?: string;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  /** Any other field, forwarded to OpenAI-dialect upstreams as is. */
  [field: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; [field: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [field: string]: unknown };
  [field: string]: unknown;
}

export interface ChatChoice {
  index: number;
  message: {
    role: 'assistant';
    content: string | null;
    refusal?: string | null;
    tool_calls?: ToolCall[];
    function_call?: { name: string; arguments: string };
  };
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

/** An OpenAI `chat.completion` object. */
export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: OpenAIUsage;
  system_fingerprint?: string | null;
  [field: string]: unknown;
}

export interface ChunkToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

/** An OpenAI `chat.completion.chunk` object. */
export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string | null; tool_calls?: ChunkToolCallDelta[]; refusal?: string | null };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
  }[];
  usage?: OpenAIUsage | null;
  system_fingerprint?: string | null;
}

/** The text of a message's content, whatever its form (parts other than text are skipped). */
export function contentText(content: string | readonly ContentPart[] | null | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of content) if (part.type === 'text' && typeof part.text === 'string') text += part.text;
  return text;
}
