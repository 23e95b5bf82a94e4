import type { ChatRequest, ChatResponse } from '../../core/chat.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../../core/embeddings.js';
import type { ModelInfo, ProviderKind } from '../../core/models.js';
import type { StreamPart } from '../../core/stream-part.js';
import type { Usage } from '../../core/usage.js';

/**
 * The contract every provider adapter fulfils: one folder per upstream wire format implements it, and
 * `test/contract/provider-adapter.contract.ts` runs the same suite against each.
 *
 * Adapters translate and transport; they do not choose providers, retry or meter (routing and usage do).
 * Every failure is thrown as a `ProviderError` (upstream answered badly or not at all) or a
 * `GatewayError` with status 400 (the request cannot be expressed for this provider), before any byte
 * goes upstream in the latter case.
 */
export interface ProviderAdapter {
  /** The configured provider name (`openai`, `anthropic`, or a name from the config file). */
  readonly name: string;
  readonly kind: ProviderKind;
  /**
   * True when the adapter streams `raw-chunks` parts in OpenAI's dialect, so the gateway can forward the
   * upstream's bytes without re-encoding them.
   */
  readonly passthrough: boolean;

  /** A non-streamed completion, answered in OpenAI's shape. */
  chat(call: ChatCall): Promise<ChatResult>;

  /**
   * A streamed completion. Resolves once the upstream accepted the request (status 2xx and headers read),
   * so a refusal before the first byte is a thrown error the router can fail over on; the returned parts
   * follow. Breaking out of the iteration (or aborting `call.signal`) cancels the upstream request.
   */
  stream(call: ChatCall): Promise<ProviderStream>;

  /** Embeddings, for providers that have them; absent otherwise. */
  embed?(call: EmbedCall): Promise<EmbeddingResult>;

  /** The models the upstream lists right now (`/v1/models`, `/api/tags`…); absent when it cannot list. */
  listModels?(call: { apiKey: string; signal: AbortSignal }): Promise<ModelInfo[]>;

  /**
   * What this adapter would drop (one sentence each) or refuse (throws) for a request, without sending
   * anything. The router uses it for OpenRouter's `provider.require_parameters`. Absent: drops nothing.
   */
  check?(request: ChatRequest, upstreamModel: string): string[];

  /** Releases connection pools. */
  close(): Promise<void>;
}

export interface CallContext {
  /** The model name the upstream knows (a deployment name on Azure). */
  upstreamModel: string;
  /** The key chosen from the provider's pool for this attempt; empty for keyless providers. */
  apiKey: string;
  /** Aborted when the client leaves or a deadline passes; adapters pass it to the upstream request. */
  signal: AbortSignal;
  requestId: string;
}

export interface ChatCall extends CallContext {
  request: ChatRequest;
}

export interface EmbedCall extends CallContext {
  request: EmbeddingRequest;
}

export interface ChatResult {
  response: ChatResponse;
  usage: Usage | undefined;
  /** Parameters the adapter dropped because the provider cannot take them, one sentence each. */
  warnings: string[];
  /** The upstream's body text, when it is already the OpenAI response and can be sent as is. */
  raw?: string;
}

export interface ProviderStream extends AsyncIterable<StreamPart> {
  warnings: string[];
}

export interface EmbeddingResult {
  response: EmbeddingResponse;
  usage: Usage | undefined;
  warnings: string[];
}
