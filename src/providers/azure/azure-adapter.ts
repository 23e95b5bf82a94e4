import type { ChatRequest } from '../../core/chat.js';
import { ProviderKind } from '../../core/models.js';
import { OpenAICompatibleAdapter } from '../shared/openai-compatible-adapter.js';
import type { OpenAIOperation } from '../shared/openai-compatible-adapter.js';
import type { UpstreamTimeouts } from '../shared/upstream-client.js';

export const azureDefaultApiVersion = '2024-10-21';

export interface AzureOptions {
  name: string;
  /** The resource endpoint, e.g. `https://my-resource.openai.azure.com`. */
  endpoint: string;
  apiVersion?: string;
  headers?: Record<string, string>;
  timeouts?: UpstreamTimeouts;
}

/**
 * Azure OpenAI: OpenAI's dialect at `/openai/deployments/{deployment}/…?api-version=…`, authenticated by
 * the `api-key` header. The upstream model of a call is the deployment name (the catalog maps model names
 * to deployments). Chunks are decoded rather than passed through: Azure sends prompt-filter chunks with
 * no choices, which OpenAI never does.
 */
export class AzureOpenAIAdapter extends OpenAICompatibleAdapter {
  private readonly apiVersion: string;

  constructor(options: AzureOptions) {
    super({
      name: options.name,
      kind: ProviderKind.azure,
      baseUrl: options.endpoint,
      passthrough: false,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    });
    this.apiVersion = options.apiVersion ?? azureDefaultApiVersion;
  }

  protected override url(operation: OpenAIOperation, deployment: string): string {
    const version = `api-version=${encodeURIComponent(this.apiVersion)}`;
    if (operation === 'models') return `${this.baseUrl}/openai/models?${version}`;
    const path = operation === 'chat' ? 'chat/completions' : 'embeddings';
    return `${this.baseUrl}/openai/deployments/${encodeURIComponent(deployment)}/${path}?${version}`;
  }

  protected override authHeaders(apiKey: string): Record<string, string> {
    return { 'api-key': apiKey };
  }

  protected override chatBody(request: ChatRequest, deployment: string, stream: boolean): Record<string, unknown> {
    const body = super.chatBody(request, deployment, stream);
    delete body['model'];
    return body;
  }
}
