import type { ProviderConfig } from '../../src/config/gateway-config.js';
import { Secret } from '../../src/config/secret.js';
import type { ProviderKind } from '../../src/core/models.js';
import type { EmulatorKind } from '../emulators/index.js';

/** One row per provider kind: which emulator speaks its wire format, and a chat and embedding model on it. */
export interface ProviderCase {
  kind: ProviderKind;
  /** The provider name used in config and in `provider/model` names (as the env variables name them). */
  name: string;
  emulator: EmulatorKind;
  chatModel: string;
  embeddingModel?: string;
  /** Upstream model for chat (Azure: the deployment). */
  upstreamChatModel: string;
}

export const providerCases: ProviderCase[] = [
  {
    kind: 'openai',
    name: 'openai',
    emulator: 'openai',
    chatModel: 'gpt-4o',
    upstreamChatModel: 'gpt-4o',
    embeddingModel: 'text-embedding-3-small',
  },
  {
    kind: 'azure',
    name: 'azure_openai',
    emulator: 'azure',
    chatModel: 'gpt-4o',
    upstreamChatModel: 'prod-4o',
    embeddingModel: 'text-embedding-3-small',
  },
  {
    kind: 'anthropic',
    name: 'anthropic',
    emulator: 'anthropic',
    chatModel: 'claude-3-5-sonnet-latest',
    upstreamChatModel: 'claude-3-5-sonnet-latest',
  },
  {
    kind: 'gemini',
    name: 'google',
    emulator: 'gemini',
    chatModel: 'gemini-2.0-flash',
    upstreamChatModel: 'gemini-2.0-flash',
    embeddingModel: 'text-embedding-004',
  },
  {
    kind: 'ollama',
    name: 'ollama',
    emulator: 'ollama',
    chatModel: 'llama3.2',
    upstreamChatModel: 'llama3.2',
    embeddingModel: 'nomic-embed-text',
  },
  {
    kind: 'openai_compatible',
    name: 'custom',
    emulator: 'openai',
    chatModel: 'gpt-4o-mini',
    upstreamChatModel: 'gpt-4o-mini',
    embeddingModel: 'text-embedding-3-small',
  },
];

export const emulatorKey = 'sk-emulator-secret-0123456789';

/** The base URL a user would configure for this emulator. */
export function providerConfig(entry: ProviderCase, url: string, timeouts: Partial<ProviderConfig['timeouts']> = {}): ProviderConfig {
  return {
    name: entry.name,
    kind: entry.kind,
    baseUrl: url,
    apiKeys: [new Secret(emulatorKey, 'test')],
    models: [],
    deployments: entry.kind === 'azure' ? { 'gpt-4o': 'prod-4o', 'text-embedding-3-small': 'text-embedding-3-small' } : {},
    headers: {},
    rateLimits: {},
    timeouts: { connectMs: 2_000, headersMs: 5_000, idleMs: 5_000, ...timeouts },
    discover: false,
    weight: 1,
    ...(entry.kind === 'azure' ? { apiVersion: '2024-10-21' } : {}),
  };
}

/** Environment variables that configure the gateway for these emulators (base URLs by kind). */
export function gatewayEnv(urls: Record<string, string>): Record<string, string> {
  return {
    OPENAI_API_KEY: emulatorKey,
    OPENAI_BASE_URL: urls['openai'] ?? '',
    AZURE_OPENAI_API_KEY: emulatorKey,
    AZURE_OPENAI_ENDPOINT: urls['azure'] ?? '',
    AZURE_OPENAI_DEPLOYMENTS: 'gpt-4o=prod-4o,text-embedding-3-small',
    ANTHROPIC_API_KEY: emulatorKey,
    ANTHROPIC_BASE_URL: urls['anthropic'] ?? '',
    GOOGLE_API_KEY: emulatorKey,
    GOOGLE_BASE_URL: urls['gemini'] ?? '',
    OLLAMA_BASE_URL: urls['ollama'] ?? '',
    CUSTOM_LLM_ENDPOINT: urls['custom'] ?? '',
    CUSTOM_LLM_API_KEY: emulatorKey,
  };
}
