/** What the gateway knows of a model a provider serves: enough to route, price and describe it. */

export const ProviderKind = {
  openai: 'openai',
  azure: 'azure',
  anthropic: 'anthropic',
  gemini: 'gemini',
  ollama: 'ollama',
  /** Any OpenAI-compatible server (vLLM, LM Studio, Together, Groq…). */
  openaiCompatible: 'openai_compatible',
} as const;
export type ProviderKind = (typeof ProviderKind)[keyof typeof ProviderKind];

export interface ModelCapabilities {
  tools: boolean;
  vision: boolean;
  jsonSchema: boolean;
  streaming: boolean;
  embeddings: boolean;
}

/** Prices in USD per million tokens; `undefined` means not known (reported as unknown, never as free). */
export interface ModelPricing {
  input?: number;
  output?: number;
  cachedInput?: number;
  /** Prompt tokens written to the provider's cache (Anthropic: 1.25× input). */
  cacheWrite?: number;
}

export interface ModelInfo {
  /** The model's name at its provider (`gpt-4o`, `claude-3-5-sonnet-latest`, `llama3.2`). */
  id: string;
  contextLength?: number;
  maxOutputTokens?: number;
  capabilities: ModelCapabilities;
  pricing: ModelPricing;
  /** Where this entry came from: the shipped catalog, the config file, or the provider's model list. */
  source: 'catalog' | 'config' | 'discovered';
}
