import { ProviderKind } from '../../core/models.js';
import { OpenAICompatibleAdapter } from '../shared/openai-compatible-adapter.js';
import type { UpstreamTimeouts } from '../shared/upstream-client.js';

/**
 * Any OpenAI-compatible server (vLLM, LM Studio, Together, Groq…). Its chunks are decoded and re-encoded
 * rather than passed through, because such servers differ from OpenAI in small ways the decoder repairs.
 */
export function createCustomAdapter(options: {
  name: string;
  baseUrl: string;
  headers?: Record<string, string>;
  timeouts?: UpstreamTimeouts;
  streamUsage?: boolean;
}): OpenAICompatibleAdapter {
  return new OpenAICompatibleAdapter({
    name: options.name,
    kind: ProviderKind.openaiCompatible,
    baseUrl: options.baseUrl,
    passthrough: false,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    ...(options.streamUsage === undefined ? {} : { streamUsage: options.streamUsage }),
  });
}
