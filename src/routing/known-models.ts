import type { ModelCapabilities, ModelInfo, ProviderKind } from '../core/models.js';

/**
 * The shipped model table: context window, output limit, capabilities and list prices (USD per million
 * tokens) of the models each provider kind serves, as the providers published them. Prices change:
 * override any of them under `providers.<name>.models.<model>` in the config file. A model that is not
 * here still works (`provider/model`), with its cost reported as unknown until a price is configured.
 */
export const knownModelsVersion = '2026-11-01';

type Row = [
  id: string,
  context: number,
  output: number,
  input: number,
  outputPrice: number,
  cached: number | undefined,
  capabilities: string,
];

const chat = (tools: boolean, vision: boolean, jsonSchema: boolean): ModelCapabilities => ({
  tools,
  vision,
  jsonSchema,
  streaming: true,
  embeddings: false,
});
const embedding: ModelCapabilities = { tools: false, vision: false, jsonSchema: false, streaming: false, embeddings: true };

/** Capability letters: t tools, v vision, j json_schema, e embeddings. */
function capabilitiesOf(letters: string): ModelCapabilities {
  if (letters === 'e') return embedding;
  return chat(letters.includes('t'), letters.includes('v'), letters.includes('j'));
}

const rows: Partial<Record<ProviderKind, Row[]>> = {
  openai: [
    ['gpt-4o', 128_000, 16_384, 2.5, 10, 1.25, 'tvj'],
    ['gpt-4o-mini', 128_000, 16_384, 0.15, 0.6, 0.075, 'tvj'],
    ['gpt-4.1', 1_047_576, 32_768, 2, 8, 0.5, 'tvj'],
    ['gpt-4.1-mini', 1_047_576, 32_768, 0.4, 1.6, 0.1, 'tvj'],
    ['gpt-4.1-nano', 1_047_576, 32_768, 0.1, 0.4, 0.025, 'tvj'],
    ['o3', 200_000, 100_000, 2, 8, 0.5, 'tvj'],
    ['o3-mini', 200_000, 100_000, 1.1, 4.4, 0.55, 'tj'],
    ['o4-mini', 200_000, 100_000, 1.1, 4.4, 0.275, 'tvj'],
    ['gpt-4-turbo', 128_000, 4_096, 10, 30, undefined, 'tv'],
    ['gpt-3.5-turbo', 16_385, 4_096, 0.5, 1.5, undefined, 't'],
    ['text-embedding-3-small', 8_191, 0, 0.02, 0, undefined, 'e'],
    ['text-embedding-3-large', 8_191, 0, 0.13, 0, undefined, 'e'],
    ['text-embedding-ada-002', 8_191, 0, 0.1, 0, undefined, 'e'],
  ],
  anthropic: [
    ['claude-opus-4-1', 200_000, 32_000, 15, 75, 1.5, 'tvj'],
    ['claude-opus-4-0', 200_000, 32_000, 15, 75, 1.5, 'tvj'],
    ['claude-sonnet-4-5', 200_000, 64_000, 3, 15, 0.3, 'tvj'],
    ['claude-sonnet-4-0', 200_000, 64_000, 3, 15, 0.3, 'tvj'],
    ['claude-3-7-sonnet-latest', 200_000, 64_000, 3, 15, 0.3, 'tvj'],
    ['claude-3-5-sonnet-latest', 200_000, 8_192, 3, 15, 0.3, 'tvj'],
    ['claude-3-5-haiku-latest', 200_000, 8_192, 0.8, 4, 0.08, 'tvj'],
    ['claude-3-opus-latest', 200_000, 4_096, 15, 75, 1.5, 'tvj'],
    ['claude-3-haiku-20240307', 200_000, 4_096, 0.25, 1.25, 0.03, 'tvj'],
  ],
  gemini: [
    ['gemini-2.5-pro', 1_048_576, 65_536, 1.25, 10, 0.31, 'tvj'],
    ['gemini-2.5-flash', 1_048_576, 65_536, 0.3, 2.5, 0.075, 'tvj'],
    ['gemini-2.5-flash-lite', 1_048_576, 65_536, 0.1, 0.4, 0.025, 'tvj'],
    ['gemini-2.0-flash', 1_048_576, 8_192, 0.1, 0.4, 0.025, 'tvj'],
    ['gemini-2.0-flash-lite', 1_048_576, 8_192, 0.075, 0.3, undefined, 'tvj'],
    ['gemini-1.5-pro', 2_097_152, 8_192, 1.25, 5, 0.3125, 'tvj'],
    ['gemini-1.5-flash', 1_048_576, 8_192, 0.075, 0.3, 0.01875, 'tvj'],
    ['text-embedding-004', 2_048, 0, 0, 0, undefined, 'e'],
    ['gemini-embedding-001', 2_048, 0, 0.15, 0, undefined, 'e'],
  ],
};

/** The shipped facts of the models a provider kind serves (Azure serves OpenAI's models). */
export function knownModels(kind: ProviderKind): ModelInfo[] {
  const table = rows[kind === 'azure' ? 'openai' : kind] ?? [];
  return table.map(([id, contextLength, maxOutputTokens, input, output, cachedInput, letters]) => ({
    id,
    contextLength,
    ...(maxOutputTokens > 0 ? { maxOutputTokens } : {}),
    capabilities: capabilitiesOf(letters),
    pricing: {
      input,
      output,
      ...(cachedInput === undefined ? {} : { cachedInput }),
      // Anthropic bills prompt-cache writes (5-minute TTL) at 1.25× the input price.
      ...(kind === 'anthropic' ? { cacheWrite: input * 1.25 } : {}),
    },
    source: 'catalog',
  }));
}

/** Default capabilities for a model nobody described: assume a modern chat model, say so nowhere else. */
export const unknownModelCapabilities: ModelCapabilities = chat(true, true, true);
