import type { ModelInfo } from '../core/models.js';
import type { Catalog, Deployment } from '../routing/catalog.js';
import { knownModelsVersion } from '../routing/known-models.js';

const catalogCreated = Math.floor(Date.parse(knownModelsVersion) / 1000);

/** A `/v1/models` entry: OpenAI's `model` object extended with what users choose models by. */
export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  providers: string[];
  context_length: number | null;
  max_output_tokens: number | null;
  /** USD per million tokens; null when unknown. */
  pricing: { input: number | null; output: number | null; cached_input: number | null };
  capabilities: { tools: boolean; vision: boolean; json_schema: boolean; streaming: boolean; embeddings: boolean };
}

/** The models the gateway serves, one entry per name clients can send (bare model ids and aliases). */
export function listModels(catalog: Catalog): ModelEntry[] {
  const byId = new Map<string, Deployment[]>();
  for (const deployment of catalog.all()) {
    const list = byId.get(deployment.model.id) ?? [];
    list.push(deployment);
    byId.set(deployment.model.id, list);
  }
  const entries = [...byId.entries()].map(([id, deployments]) => entryOf(id, deployments));
  for (const alias of catalog.aliasNames()) {
    if (byId.has(alias)) continue;
    entries.push({ ...entryOf(alias, catalog.resolve(alias).deployments), owned_by: 'circuit-breaker' });
  }
  return entries;
}

/** One model by any name a client may send (`gpt-4o`, `openai/gpt-4o`, an alias); throws a 404 otherwise. */
export function describeModel(catalog: Catalog, id: string): ModelEntry {
  return entryOf(id, catalog.resolve(id).deployments);
}

function entryOf(id: string, deployments: Deployment[]): ModelEntry {
  const first = deployments[0] as Deployment;
  const model: ModelInfo = first.model;
  return {
    id,
    object: 'model',
    created: catalogCreated,
    owned_by: first.provider,
    providers: [...new Set(deployments.map((deployment) => deployment.provider))],
    context_length: model.contextLength ?? null,
    max_output_tokens: model.maxOutputTokens ?? null,
    pricing: {
      input: model.pricing.input ?? null,
      output: model.pricing.output ?? null,
      cached_input: model.pricing.cachedInput ?? null,
    },
    capabilities: {
      tools: model.capabilities.tools,
      vision: model.capabilities.vision,
      json_schema: model.capabilities.jsonSchema,
      streaming: model.capabilities.streaming,
      embeddings: model.capabilities.embeddings,
    },
  };
}

/** OpenRouter's `/api/v1/models` entry shape (prices per token, as decimal strings). */
export function toOpenRouterModel(deployment: Deployment): Record<string, unknown> {
  const { model } = deployment;
  // Plain decimals as OpenRouter writes them ("0.00000002", never "2e-8"), rounded to 12 significant digits.
  const perToken = (perMillion: number | undefined): string | null =>
    perMillion === undefined
      ? null
      : Number((perMillion / 1_000_000).toPrecision(12))
          .toFixed(14)
          .replace(/\.?0+$/, '');
  const inputs = model.capabilities.vision ? ['text', 'image'] : ['text'];
  const id = `${deployment.provider}/${model.id}`;
  const parameters = ['max_tokens', 'temperature', 'top_p', 'stop', 'seed', 'response_format'];
  if (model.capabilities.tools) parameters.push('tools', 'tool_choice');
  if (model.capabilities.jsonSchema) parameters.push('structured_outputs');
  return {
    id,
    canonical_slug: id,
    name: `${deployment.provider}: ${model.id}`,
    created: catalogCreated,
    description: `${model.id} served by ${deployment.provider} (${deployment.adapter.kind})`,
    context_length: model.contextLength ?? null,
    architecture: {
      modality: `${inputs.join('+')}->${model.capabilities.embeddings ? 'embeddings' : 'text'}`,
      input_modalities: inputs,
      output_modalities: [model.capabilities.embeddings ? 'embeddings' : 'text'],
      tokenizer: 'Other',
      instruct_type: null,
    },
    pricing: {
      prompt: perToken(model.pricing.input),
      completion: perToken(model.pricing.output),
      input_cache_read: perToken(model.pricing.cachedInput),
      request: '0',
      image: '0',
    },
    top_provider: {
      context_length: model.contextLength ?? null,
      max_completion_tokens: model.maxOutputTokens ?? null,
      is_moderated: false,
    },
    per_request_limits: null,
    supported_parameters: parameters,
  };
}
