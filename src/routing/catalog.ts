import { ErrorCode, GatewayError } from '../core/errors.js';
import type { ModelInfo } from '../core/models.js';
import type { AliasConfig, ModelOverride, ProviderConfig } from '../config/gateway-config.js';
import type { Secret } from '../config/secret.js';
import type { ProviderAdapter } from '../providers/spec/provider-adapter.js';
import { knownModels, unknownModelCapabilities } from './known-models.js';
import { closestNames } from './suggest.js';

/** One way to serve a model: a provider, the model's facts there, the upstream name and the key pool. */
export interface Deployment {
  provider: string;
  adapter: ProviderAdapter;
  model: ModelInfo;
  /** What the upstream calls it (an Azure deployment name, or the model id). */
  upstreamModel: string;
  keys: readonly Secret[];
  /** False when the model is not in the catalog and is passed through on a `provider/model` name. */
  known: boolean;
}

export interface Resolution {
  deployments: Deployment[];
  warnings: string[];
}

interface ProviderEntry {
  config: ProviderConfig;
  adapter: ProviderAdapter;
  models: Map<string, ModelInfo>;
}

/**
 * The catalog of deployments: provider × model × key pool, from the shipped model table, the config file
 * and what providers list (discovery). It answers "who can serve this model name?" for bare names
 * (`gpt-4o`: every provider that serves it, in config order), `provider/model` names (that provider only;
 * an unknown model is passed through with a warning) and aliases from config.
 */
export class Catalog {
  private readonly providers = new Map<string, ProviderEntry>();

  constructor(
    providers: readonly { config: ProviderConfig; adapter: ProviderAdapter }[],
    private readonly aliases: Record<string, AliasConfig> = {},
  ) {
    for (const { config, adapter } of providers) {
      this.providers.set(config.name, { config, adapter, models: initialModels(config) });
    }
  }

  providerNames(): string[] {
    return [...this.providers.keys()];
  }

  adapters(): { name: string; config: ProviderConfig; adapter: ProviderAdapter }[] {
    return [...this.providers.values()].map((entry) => ({ name: entry.config.name, config: entry.config, adapter: entry.adapter }));
  }

  /** Adds what a provider listed; configured and shipped facts win over discovered ones. */
  addDiscovered(provider: string, models: readonly ModelInfo[]): void {
    const entry = this.providers.get(provider);
    if (!entry) return;
    const free = entry.config.kind === 'ollama';
    for (const listed of models) {
      // Ollama lists `llama3.2:latest`; users (and Ollama itself) say `llama3.2`.
      const model = free && listed.id.endsWith(':latest') ? { ...listed, id: listed.id.slice(0, -':latest'.length) } : listed;
      if (entry.models.has(model.id)) continue;
      // Local models cost nothing: never report them as unpriced.
      entry.models.set(model.id, free ? { ...model, pricing: { input: 0, output: 0, ...model.pricing } } : model);
    }
  }

  /** Every deployment, provider by provider, in config order. */
  all(): Deployment[] {
    const result: Deployment[] = [];
    for (const entry of this.providers.values()) {
      for (const model of entry.models.values()) result.push(deploymentOf(entry, model, true));
    }
    return result;
  }

  aliasNames(): string[] {
    return Object.keys(this.aliases);
  }

  /** The deployments that can serve `name`, in order; throws a 404 with the closest names otherwise. */
  resolve(name: string): Resolution {
    const alias = this.aliases[name];
    if (alias) return this.resolveAlias(name, alias);
    const slash = name.indexOf('/');
    if (slash > 0) {
      const entry = this.providers.get(name.slice(0, slash));
      if (entry) return this.resolveOnProvider(entry, name.slice(slash + 1));
    }
    const deployments: Deployment[] = [];
    for (const entry of this.providers.values()) {
      const model = entry.models.get(name);
      if (model) deployments.push(deploymentOf(entry, model, true));
    }
    if (deployments.length > 0) return { deployments, warnings: [] };
    throw this.unknownModel(name);
  }

  private resolveOnProvider(entry: ProviderEntry, model: string): Resolution {
    if (model === '') throw this.unknownModel(`${entry.config.name}/`);
    const known = entry.models.get(model);
    if (known) return { deployments: [deploymentOf(entry, known, true)], warnings: [] };
    const passthrough: ModelInfo = { id: model, capabilities: unknownModelCapabilities, pricing: {}, source: 'discovered' };
    return {
      deployments: [deploymentOf(entry, passthrough, false)],
      warnings: [
        `model '${model}' is not in the catalog of provider '${entry.config.name}': passed through, cost unknown until a price is configured`,
      ],
    };
  }

  private resolveAlias(name: string, alias: AliasConfig): Resolution {
    const deployments: Deployment[] = [];
    const warnings: string[] = [];
    for (const target of alias.targets) {
      const slash = target.indexOf('/');
      const provider = slash > 0 ? target.slice(0, slash) : target;
      const model = slash > 0 ? target.slice(slash + 1) : alias.model;
      const entry = this.providers.get(provider);
      if (!entry) continue;
      const resolved = this.resolveOnProvider(entry, model);
      deployments.push(...resolved.deployments);
      warnings.push(...resolved.warnings);
    }
    if (deployments.length === 0) throw this.unknownModel(name);
    return { deployments, warnings };
  }

  private unknownModel(name: string): GatewayError {
    const names = new Set<string>(Object.keys(this.aliases));
    for (const entry of this.providers.values()) {
      for (const id of entry.models.keys()) {
        names.add(id);
        names.add(`${entry.config.name}/${id}`);
      }
    }
    const close = closestNames(name, names);
    const hint = close.length > 0 ? ` Did you mean ${close.map((candidate) => `'${candidate}'`).join(', ')}?` : '';
    const configured =
      this.providers.size === 0
        ? ' No provider is configured: set OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_API_KEY, OLLAMA_BASE_URL, AZURE_OPENAI_* or CUSTOM_LLM_ENDPOINT, or add providers to the config file.'
        : ' GET /v1/models lists the models available; `provider/model` passes any model through to a configured provider.';
    return new GatewayError(
      ErrorCode.unknownModel,
      `The model '${name}' does not exist or is not served by any configured provider.${hint}${configured}`,
      {
        status: 404,
        param: 'model',
      },
    );
  }
}

function deploymentOf(entry: ProviderEntry, model: ModelInfo, known: boolean): Deployment {
  return {
    provider: entry.config.name,
    adapter: entry.adapter,
    model,
    upstreamModel: entry.config.deployments[model.id] ?? model.id,
    keys: entry.config.apiKeys,
    known,
  };
}

/** Configured models (with shipped facts where known) or, with none configured, the shipped table. */
function initialModels(config: ProviderConfig): Map<string, ModelInfo> {
  const shipped = new Map(knownModels(config.kind).map((model) => [model.id, model]));
  const models = new Map<string, ModelInfo>();
  if (config.models.length === 0) return config.kind === 'azure' ? models : shipped;
  for (const override of config.models) models.set(override.id, applyOverride(shipped.get(override.id), override, config.kind));
  return models;
}

function applyOverride(base: ModelInfo | undefined, override: ModelOverride, kind: string): ModelInfo {
  const free = kind === 'ollama';
  return {
    id: override.id,
    ...((override.contextLength ?? base?.contextLength)
      ? { contextLength: (override.contextLength ?? base?.contextLength) as number }
      : {}),
    ...((override.maxOutputTokens ?? base?.maxOutputTokens)
      ? { maxOutputTokens: (override.maxOutputTokens ?? base?.maxOutputTokens) as number }
      : {}),
    capabilities: { ...(base?.capabilities ?? unknownModelCapabilities), ...override.capabilities },
    pricing: { ...(free ? { input: 0, output: 0 } : {}), ...base?.pricing, ...override.pricing },
    source: override.pricing || override.contextLength || override.capabilities ? 'config' : (base?.source ?? 'config'),
  };
}
