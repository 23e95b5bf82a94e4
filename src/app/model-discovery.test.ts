import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../config/gateway-config.js';
import { silentLogger } from '../core/logger.js';
import type { ModelInfo } from '../core/models.js';
import type { ProviderAdapter } from '../providers/spec/provider-adapter.js';
import { Catalog } from '../routing/catalog.js';
import type { Store } from '../storage/store.js';
import { ModelDiscovery } from './model-discovery.js';

const capabilities = { tools: false, vision: false, jsonSchema: false, streaming: true, embeddings: false };

function setup() {
  const time = { value: 1_000_000 };
  const listed: string[] = ['llama3.2:latest'];
  let listings = 0;
  const config: ProviderConfig = {
    name: 'ollama',
    kind: 'ollama',
    baseUrl: 'http://127.0.0.1:1',
    apiKeys: [],
    models: [],
    deployments: {},
    headers: {},
    rateLimits: {},
    timeouts: { connectMs: 1_000, headersMs: 1_000, idleMs: 1_000 },
    discover: true,
    weight: 1,
  };
  const adapter = {
    name: 'ollama',
    kind: 'ollama',
    passthrough: false,
    listModels: async (): Promise<ModelInfo[]> => {
      listings++;
      return listed.map((id) => ({ id, capabilities, pricing: {}, source: 'discovered' as const }));
    },
  } as unknown as ProviderAdapter;
  const catalog = new Catalog([{ config, adapter }]);
  // Discovery only touches the model cache; the other repositories are never reached here.
  const store = {
    backend: 'sqlite',
    ping: async () => {},
    modelCache: { save: async () => {}, load: async () => undefined },
    close: async () => {},
  } as unknown as Store;
  const discovery = new ModelDiscovery(catalog, store, silentLogger, { now: () => time.value });
  return { discovery, catalog, listed, time, listings: () => listings };
}

describe('ModelDiscovery on demand', () => {
  it('re-discovers once for a model pulled right after start, then at most every 10 s', async () => {
    const { discovery, catalog, listed, time, listings } = setup();
    await discovery.run();
    expect(() => catalog.resolve('qwen2.5')).toThrow(/does not exist/);
    listed.push('qwen2.5:latest');
    expect(await discovery.refreshIfStale()).toBe(true);
    expect(catalog.resolve('qwen2.5').deployments[0]?.provider).toBe('ollama');
    expect(listings()).toBe(2);
    time.value += 9_999;
    expect(await discovery.refreshIfStale()).toBe(false);
    time.value += 1;
    expect(await discovery.refreshIfStale()).toBe(true);
    expect(listings()).toBe(3);
  });

  it('concurrent unknown names share one discovery', async () => {
    const { discovery, listings } = setup();
    const results = await Promise.all([discovery.refreshIfStale(), discovery.refreshIfStale(), discovery.refreshIfStale()]);
    expect(results).toEqual([true, true, true]);
    expect(listings()).toBe(1);
  });
});
