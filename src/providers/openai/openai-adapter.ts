import { ProviderKind } from '../../core/models.js';
import { OpenAICompatibleAdapter } from '../shared/openai-compatible-adapter.js';
import type { UpstreamTimeouts } from '../shared/upstream-client.js';

export const openAIDefaultBaseUrl = 'https://api.openai.com/v1';

/** OpenAI itself: the OpenAI-compatible base with byte-for-byte stream passthrough. */
export function createOpenAIAdapter(options: {
  name: string;
  baseUrl?: string;
  headers?: Record<string, string>;
  timeouts?: UpstreamTimeouts;
}): OpenAICompatibleAdapter {
  return new OpenAICompatibleAdapter({
    name: options.name,
    kind: ProviderKind.openai,
    baseUrl: options.baseUrl ?? openAIDefaultBaseUrl,
    passthrough: true,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
  });
}
