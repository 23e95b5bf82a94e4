import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { ProviderKind } from '../core/models.js';
import type { ModelCapabilities } from '../core/models.js';
import { compileUsage } from './compile-usage.js';
import { configFileSchema } from './config-schema.js';
import type { AliasInput, ConfigFile, ModelEntryInput, ProviderInput } from './config-schema.js';
import type { AliasConfig, GatewayConfig, ModelOverride, ProviderConfig } from './gateway-config.js';
import { resolveSecretReference, Secret } from './secret.js';
import { defaultHealthPolicy } from '../routing/health-policy.js';

export type Env = Record<string, string | undefined>;

const defaultBaseUrls: Record<ProviderKind, string | undefined> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
  ollama: 'http://localhost:11434',
  azure: undefined,
  openai_compatible: undefined,
};

const kindByName: Record<string, ProviderKind> = {
  openai: ProviderKind.openai,
  azure: ProviderKind.azure,
  azure_openai: ProviderKind.azure,
  anthropic: ProviderKind.anthropic,
  google: ProviderKind.gemini,
  gemini: ProviderKind.gemini,
  ollama: ProviderKind.ollama,
  openai_compatible: ProviderKind.openaiCompatible,
  custom: ProviderKind.openaiCompatible,
};

/**
 * Loads the configuration: the YAML file (`CB_CONFIG`, else `./circuit-breaker.yaml` when present) merged
 * with the environment variables the spec names, validated by one schema, defaults applied, secret
 * references resolved. Every problem is collected and thrown at once as a `ConfigError` whose issues
 * say where (file and path, or variable) and what was expected.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): GatewayConfig {
  const issues: string[] = [];
  const file = configFilePath(env, cwd, issues);
  const parsed = file ? readConfigFile(file, issues) : {};
  const where = file ?? 'config';

  const envProviders = providersFromEnv(env, issues);
  const fileProviders = parsed.providers ?? {};
  const names = [...new Set([...Object.keys(fileProviders), ...Object.keys(envProviders)])];
  const providers: ProviderConfig[] = [];
  for (const name of names) {
    const fromFile = fileProviders[name];
    const fromEnv = envProviders[name];
    if (fromFile?.enabled === false) continue;
    const compiled = compileProvider(name, { ...fromEnv, ...stripUndefined(fromFile ?? {}) }, env, `${where}: providers.${name}`, issues);
    if (compiled) providers.push(compiled);
  }

  const aliases: Record<string, AliasConfig> = {};
  for (const [alias, input] of Object.entries(parsed.models ?? {})) {
    const compiled = compileAlias(alias, input, providers, `${where}: models.${alias}`, issues);
    if (compiled) aliases[alias] = compiled;
  }

  const port = intFromEnv(env, 'PORT', issues) ?? parsed.server?.port ?? 4000;
  const bodyLimit = intFromEnv(env, 'CB_BODY_LIMIT', issues) ?? parsed.server?.body_limit ?? 4 * 1024 * 1024;
  const storageBackend = env['STORAGE_BACKEND'] ?? parsed.storage?.backend ?? (env['DATABASE_URL'] ? 'postgres' : 'sqlite');
  const schemaName = env['CB_DATABASE_SCHEMA'];
  if (schemaName !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schemaName))
    issues.push(`CB_DATABASE_SCHEMA: expected a lowercase SQL identifier, got '${schemaName}'`);
  if (!['sqlite', 'postgres', 'nats'].includes(storageBackend)) {
    issues.push(`STORAGE_BACKEND: expected sqlite, postgres or nats, got '${storageBackend}'`);
  }
  const natsUrl = env['NATS_URL'] ?? parsed.storage?.nats_url;
  // Not echoed: the URL may carry a password.
  if (natsUrl !== undefined && !/^(nats|tls):\/\/[^/\s]+/.test(natsUrl))
    issues.push(
      'NATS_URL: expected nats://host:4222 or tls://host:4222 (credentials may go before the host: nats://user:password@host:4222)',
    );
  const eventBus = env['CB_EVENT_BUS'] ?? parsed.event_bus ?? (natsUrl ? 'nats' : 'memory');
  if (eventBus !== 'memory' && eventBus !== 'nats') issues.push(`CB_EVENT_BUS: expected memory or nats, got '${eventBus}'`);
  if (eventBus === 'nats' && !natsUrl) issues.push('CB_EVENT_BUS=nats needs NATS_URL=nats://host:4222');
  if (storageBackend === 'nats' && !natsUrl) issues.push('STORAGE_BACKEND=nats needs NATS_URL=nats://host:4222');
  const natsPrefix = env['CB_NATS_PREFIX'] ?? parsed.storage?.nats_prefix;
  if (natsPrefix !== undefined && !/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(natsPrefix))
    issues.push(`CB_NATS_PREFIX: expected letters, digits, _ and - (up to 32, starting with a letter), got '${natsPrefix}'`);
  const logLevel = env['LOG_LEVEL'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    issues.push(`LOG_LEVEL: expected debug, info, warn, error or silent, got '${logLevel}'`);
  }

  const access: GatewayConfig['access'] = { previousMasterKeys: [] };
  const adminKey = secretFrom(env, 'CB_ADMIN_KEY', parsed.access?.admin_key, `${where}: access.admin_key`, issues);
  if (adminKey) access.adminKey = adminKey;
  const masterKeyFile = env['CB_MASTER_KEY_FILE'] ? `file:${env['CB_MASTER_KEY_FILE']}` : undefined;
  const masterKey = secretFrom(
    env,
    'CB_MASTER_KEY',
    masterKeyFile ?? parsed.access?.master_key,
    masterKeyFile ? 'CB_MASTER_KEY_FILE' : `${where}: access.master_key`,
    issues,
  );
  if (masterKey) access.masterKey = masterKey;
  const previousMasterKeys = env['CB_MASTER_KEY_PREVIOUS']
    ? [secretFrom(env, 'CB_MASTER_KEY_PREVIOUS', undefined, 'CB_MASTER_KEY_PREVIOUS', issues)]
    : (parsed.access?.previous_master_keys ?? []).map((reference, index) =>
        secretFrom(env, '', reference, `${where}: access.previous_master_keys.${index}`, issues),
      );
  const usage = compileUsage(parsed, env, where, issues);
  const workflows = workflowTuning(env, parsed, issues);

  if (issues.length > 0) {
    throw new ConfigError(
      `The configuration is invalid (${issues.length} problem${issues.length > 1 ? 's' : ''}):\n- ${issues.join('\n- ')}`,
      issues,
    );
  }
  const storage: GatewayConfig['storage'] = { backend: storageBackend as GatewayConfig['storage']['backend'] };
  const databaseUrl = env['DATABASE_URL'] ?? parsed.storage?.database_url;
  if (databaseUrl) storage.databaseUrl = databaseUrl;
  if (natsUrl) storage.natsUrl = natsUrl;
  if (natsPrefix) storage.natsPrefix = natsPrefix;
  const schema = env['CB_DATABASE_SCHEMA'] ?? parsed.storage?.schema;
  if (schema) storage.schema = schema;
  return {
    server: {
      host: env['HOST'] ?? parsed.server?.host ?? '127.0.0.1',
      port,
      bodyLimitBytes: bodyLimit,
      keepAliveIntervalMs: parsed.server?.keep_alive_interval_ms ?? 15_000,
    },
    dataDir: resolve(cwd, env['CB_DATA_DIR'] ?? parsed.data_dir ?? './data'),
    storage,
    events: { bus: eventBus as GatewayConfig['events']['bus'] },
    providers,
    aliases,
    routing: {
      strategy: parsed.routing?.strategy ?? 'failover_chain',
      fallbacks: parsed.routing?.fallbacks ?? true,
      maxAttempts: parsed.routing?.max_attempts ?? 4,
      maxWaitMs: parsed.routing?.max_wait_ms ?? 2_000,
      stickyKeys: parsed.routing?.sticky_keys ?? false,
    },
    health: {
      windowMs: parsed.health?.window_ms ?? defaultHealthPolicy.windowMs,
      minSamples: parsed.health?.min_samples ?? defaultHealthPolicy.minSamples,
      errorRateThreshold: parsed.health?.error_rate_threshold ?? defaultHealthPolicy.errorRateThreshold,
      consecutiveFailures: parsed.health?.consecutive_failures ?? defaultHealthPolicy.consecutiveFailures,
      latencyThresholdMs: parsed.health?.latency_threshold_ms ?? defaultHealthPolicy.latencyThresholdMs,
      openMs: parsed.health?.open_ms ?? defaultHealthPolicy.openMs,
      maxOpenMs: parsed.health?.max_open_ms ?? defaultHealthPolicy.maxOpenMs,
      rateLimitCooldownMs: parsed.health?.rate_limit_cooldown_ms ?? defaultHealthPolicy.rateLimitCooldownMs,
    },
    access: { ...access, previousMasterKeys: previousMasterKeys.filter((key): key is Secret => key !== undefined) },
    usage,
    metrics: { public: parsed.metrics?.public ?? false },
    workflows,
    logLevel: logLevel as GatewayConfig['logLevel'],
    ...(file ? { file } : {}),
  };
}

function workflowTuning(env: Env, parsed: ConfigFile, issues: string[]): NonNullable<GatewayConfig['workflows']> {
  const number = (name: string, fallback: number | undefined): number | undefined => {
    const text = env[name];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 10) issues.push(`${name}: expected a whole number of milliseconds (10 or more), got '${text}'`);
    return value;
  };
  const tuning: NonNullable<GatewayConfig['workflows']> = {};
  const leaseMs = number('CB_WORKFLOW_LEASE_MS', parsed.workflows?.action_lease_ms);
  const pollMs = number('CB_WORKFLOW_POLL_MS', parsed.workflows?.poll_ms);
  if (leaseMs !== undefined) tuning.leaseMs = leaseMs;
  if (pollMs !== undefined) tuning.pollMs = pollMs;
  if (parsed.workflows?.max_attempts !== undefined) tuning.maxAttempts = parsed.workflows.max_attempts;
  return tuning;
}

function configFilePath(env: Env, cwd: string, issues: string[]): string | undefined {
  const named = env['CB_CONFIG'];
  if (named) {
    const path = resolve(cwd, named);
    if (!existsSync(path)) issues.push(`CB_CONFIG: no file at ${path}`);
    return existsSync(path) ? path : undefined;
  }
  const fallback = resolve(cwd, 'circuit-breaker.yaml');
  return existsSync(fallback) ? fallback : undefined;
}

function readConfigFile(file: string, issues: string[]): ConfigFile {
  const document = parseDocument(readFileSync(file, 'utf8'));
  if (document.errors.length > 0) {
    for (const error of document.errors) issues.push(`${file}: ${error.message.split('\n')[0]}`);
    return {};
  }
  const result = configFileSchema.safeParse(document.toJS() ?? {});
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    issues.push(`${file}: ${path}: ${issue.message}`);
  }
  return {};
}

function providersFromEnv(env: Env, issues: string[]): Record<string, ProviderInput> {
  const providers: Record<string, ProviderInput> = {};
  const keyed = (prefix: string): string[] | undefined => {
    const many = env[`${prefix}_API_KEYS`];
    if (many) return many.split(',').map((_, index) => `envlist:${prefix}_API_KEYS:${index}`);
    return env[`${prefix}_API_KEY`] ? [`env:${prefix}_API_KEY`] : undefined;
  };
  const withUrl = (input: ProviderInput, variable: string): ProviderInput => {
    const url = env[variable];
    if (url === undefined || url === '') return input;
    if (!isHttpUrl(url)) issues.push(`${variable}: expected an http(s) URL, got '${url}'`);
    return { ...input, base_url: url };
  };
  const openai = keyed('OPENAI');
  if (openai) providers['openai'] = withUrl({ api_keys: openai }, 'OPENAI_BASE_URL');
  const anthropic = keyed('ANTHROPIC');
  if (anthropic) providers['anthropic'] = withUrl({ api_keys: anthropic }, 'ANTHROPIC_BASE_URL');
  const google = keyed('GOOGLE') ?? keyed('GEMINI');
  if (google) providers['google'] = withUrl({ api_keys: google }, 'GOOGLE_BASE_URL');
  const azure = keyed('AZURE_OPENAI');
  if (azure || env['AZURE_OPENAI_ENDPOINT']) {
    const input: ProviderInput = { kind: 'azure' };
    if (azure) input.api_keys = azure;
    if (env['AZURE_OPENAI_ENDPOINT']) input.endpoint = 'env:AZURE_OPENAI_ENDPOINT';
    if (env['AZURE_OPENAI_API_VERSION']) input.api_version = env['AZURE_OPENAI_API_VERSION'];
    const deployments = env['AZURE_OPENAI_DEPLOYMENTS'];
    if (deployments) {
      input.deployments = Object.fromEntries(
        deployments.split(',').map((entry) => {
          const [model = '', deployment] = entry.split('=').map((part) => part.trim());
          return [model, deployment || model];
        }),
      );
    }
    providers['azure_openai'] = input;
  }
  if (env['OLLAMA_BASE_URL']) providers['ollama'] = withUrl({}, 'OLLAMA_BASE_URL');
  if (env['CUSTOM_LLM_ENDPOINT']) {
    const input = withUrl({ kind: 'openai_compatible' }, 'CUSTOM_LLM_ENDPOINT');
    if (env['CUSTOM_LLM_API_KEY']) input.api_keys = ['env:CUSTOM_LLM_API_KEY'];
    providers['custom'] = input;
  }
  return providers;
}

function compileProvider(name: string, input: ProviderInput, env: Env, where: string, issues: string[]): ProviderConfig | undefined {
  const kind = input.kind ? kindByName[input.kind] : kindByName[name];
  if (!kind) {
    issues.push(
      `${where}.kind: required for a provider named '${name}' (one of openai, azure, anthropic, google, ollama, openai_compatible)`,
    );
    return undefined;
  }
  let baseUrl = input.base_url ?? defaultBaseUrls[kind];
  if (kind === ProviderKind.azure) {
    const endpoint = input.endpoint ?? input.base_url;
    const resolved = endpoint?.startsWith('env:') ? env[endpoint.slice(4)] : endpoint;
    if (!resolved || !isHttpUrl(resolved)) {
      issues.push(
        `${where}.endpoint: Azure needs its resource endpoint URL (AZURE_OPENAI_ENDPOINT or endpoint: https://NAME.openai.azure.com)`,
      );
      return undefined;
    }
    baseUrl = resolved;
  }
  if (!baseUrl) {
    issues.push(`${where}.base_url: required for an OpenAI-compatible provider (e.g. http://localhost:8000/v1)`);
    return undefined;
  }
  const references = [...(input.api_key ? [input.api_key] : []), ...(input.api_keys ?? [])];
  const apiKeys: Secret[] = [];
  references.forEach((reference, index) => {
    const secret = resolveKey(reference, env);
    if (secret instanceof Secret) apiKeys.push(secret);
    else issues.push(`${where}.api_keys[${index}]: ${secret.error}`);
  });
  const keyless = kind === ProviderKind.ollama || kind === ProviderKind.openaiCompatible;
  if (apiKeys.length === 0 && !keyless) issues.push(`${where}.api_keys: provider '${name}' needs at least one API key`);
  const models: ModelOverride[] = compileModels(input.models);
  const deployments = input.deployments ?? {};
  for (const model of Object.keys(deployments)) {
    if (!models.some((entry) => entry.id === model)) models.push({ id: model });
  }
  const provider: ProviderConfig = {
    name,
    kind,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    apiKeys,
    models,
    deployments,
    headers: input.headers ?? {},
    rateLimits: { ...input.rate_limits },
    timeouts: {
      connectMs: input.timeouts?.connect_ms ?? 10_000,
      headersMs: input.timeouts?.headers_ms ?? 300_000,
      idleMs: input.timeouts?.idle_ms ?? 120_000,
    },
    discover: input.discover ?? (kind === ProviderKind.ollama || kind === ProviderKind.openaiCompatible),
    weight: input.weight ?? 1,
  };
  if (input.api_version) provider.apiVersion = input.api_version;
  return provider;
}

/** `envlist:VAR:i` is the i-th comma-separated key of a `*_API_KEYS` variable. */
function resolveKey(reference: string, env: Env): Secret | { error: string } {
  const list = /^envlist:([A-Z_]+):(\d+)$/.exec(reference);
  if (!list) return resolveSecretReference(reference, env);
  const [, variable = '', index = '0'] = list;
  const value = (env[variable] ?? '').split(',')[Number(index)]?.trim();
  if (!value) return { error: `${variable} has an empty key at position ${Number(index) + 1}` };
  return new Secret(value, `env:${variable}[${index}]`);
}

function compileModels(models: ProviderInput['models']): ModelOverride[] {
  if (!models) return [];
  if (Array.isArray(models)) return models.map((id) => ({ id }));
  return Object.entries(models).map(([id, entry]) => compileModelEntry(id, entry));
}

function compileModelEntry(id: string, entry: ModelEntryInput | null): ModelOverride {
  const override: ModelOverride = { id };
  if (!entry) return override;
  if (entry.context_length) override.contextLength = entry.context_length;
  if (entry.max_output_tokens) override.maxOutputTokens = entry.max_output_tokens;
  if (
    entry.input_price !== undefined ||
    entry.output_price !== undefined ||
    entry.cached_input_price !== undefined ||
    entry.cache_write_price !== undefined
  ) {
    override.pricing = stripUndefined({
      input: entry.input_price,
      output: entry.output_price,
      cachedInput: entry.cached_input_price,
      cacheWrite: entry.cache_write_price,
    });
  }
  if (entry.capabilities) {
    const capabilities: Partial<ModelCapabilities> = {
      tools: false,
      vision: false,
      jsonSchema: false,
      streaming: false,
      embeddings: false,
    };
    for (const capability of entry.capabilities) {
      capabilities[capability === 'json_schema' ? 'jsonSchema' : capability] = true;
    }
    override.capabilities = capabilities;
  }
  return override;
}

function compileAlias(
  alias: string,
  input: AliasInput,
  providers: ProviderConfig[],
  where: string,
  issues: string[],
): AliasConfig | undefined {
  const targets = [...(input.primary ? [input.primary] : []), ...(input.fallback ?? []), ...(input.providers ?? [])];
  if (targets.length === 0) {
    issues.push(`${where}: needs \`primary\` or \`providers\` (provider names, or provider/model)`);
    return undefined;
  }
  for (const target of targets) {
    const provider = target.split('/')[0] ?? '';
    if (!providers.some((entry) => entry.name === provider)) {
      issues.push(
        `${where}: provider '${provider}' is not configured (configured: ${providers.map((entry) => entry.name).join(', ') || 'none'})`,
      );
    }
  }
  const compiled: AliasConfig = { targets, model: input.model ?? alias };
  if (input.strategy) compiled.strategy = input.strategy;
  if (input.cost_limit !== undefined) {
    const match = /^\$?\s*(\d+(?:\.\d+)?)\s*\/\s*1k(?:_tokens)?$/i.exec(input.cost_limit.trim());
    if (match) compiled.maxCostPer1kTokens = Number(match[1]);
    else issues.push(`${where}.cost_limit: expected a price per 1,000 tokens like "$0.03/1k_tokens", got '${input.cost_limit}'`);
  }
  if (input.performance_target !== undefined) {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s)$/.exec(input.performance_target.trim());
    if (match) compiled.maxLatencyMs = Number(match[1]) * (match[2] === 's' ? 1000 : 1);
    else issues.push(`${where}.performance_target: expected a duration like "2s" or "800ms", got '${input.performance_target}'`);
  }
  return compiled;
}

function secretFrom(env: Env, variable: string, reference: string | undefined, where: string, issues: string[]): Secret | undefined {
  const value = env[variable];
  if (value) return new Secret(value, `env:${variable}`);
  if (!reference) return undefined;
  const secret = resolveSecretReference(reference, env);
  if (secret instanceof Secret) return secret;
  issues.push(`${where}: ${secret.error}`);
  return undefined;
}

function intFromEnv(env: Env, variable: string, issues: string[]): number | undefined {
  const value = env[variable];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) {
    issues.push(`${variable}: expected a whole number, got '${value}'`);
    return undefined;
  }
  return Number(value);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
