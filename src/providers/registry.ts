import type { ProviderConfig } from '../config/gateway-config.js';
import { ProviderKind } from '../core/models.js';
import { createAnthropicAdapter } from './anthropic/anthropic-adapter.js';
import { AzureOpenAIAdapter } from './azure/azure-adapter.js';
import { createCustomAdapter } from './custom/custom-adapter.js';
import { createGeminiAdapter } from './gemini/gemini-adapter.js';
import { createOllamaAdapter } from './ollama/ollama-adapter.js';
import { createOpenAIAdapter } from './openai/openai-adapter.js';
import type { ProviderAdapter } from './spec/provider-adapter.js';

/**
 * The one place that maps a provider kind to its adapter. Adding a provider: a folder, a line here,
 * fixtures, the contract suite (see docs/adding-a-provider.md).
 */
export function createAdapter(config: ProviderConfig): ProviderAdapter {
  const common = { name: config.name, baseUrl: config.baseUrl, headers: config.headers, timeouts: config.timeouts };
  switch (config.kind) {
    case ProviderKind.openai:
      return createOpenAIAdapter(common);
    case ProviderKind.azure:
      return new AzureOpenAIAdapter({
        name: config.name,
        endpoint: config.baseUrl,
        headers: config.headers,
        timeouts: config.timeouts,
        ...(config.apiVersion ? { apiVersion: config.apiVersion } : {}),
      });
    case ProviderKind.anthropic:
      return createAnthropicAdapter(common);
    case ProviderKind.gemini:
      return createGeminiAdapter(common);
    case ProviderKind.ollama:
      return createOllamaAdapter(common);
    case ProviderKind.openaiCompatible:
      return createCustomAdapter(common);
  }
}
