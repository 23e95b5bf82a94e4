import { describe, expect, it } from 'vitest';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { loadConfig } from '../config/load-config.js';
import type { ProviderAdapter } from '../providers/spec/provider-adapter.js';
import { Catalog } from './catalog.js';

function catalogFrom(env: Record<string, string>): Catalog {
  const config = loadConfig(env, '/nonexistent-dir-for-tests');
  const adapter = (name: string) => ({ name, kind: 'openai', passthrough: true }) as unknown as ProviderAdapter;
  return new Catalog(
    config.providers.map((provider) => ({ config: provider, adapter: adapter(provider.name) })),
    { fast: { targets: ['anthropic/claude-3-5-haiku-latest', 'openai'], model: 'gpt-4o-mini' } },
  );
}

describe('Catalog', () => {
  const catalog = catalogFrom({
    OPENAI_API_KEY: 'a',
    ANTHROPIC_API_KEY: 'b',
    AZURE_OPENAI_API_KEY: 'c',
    AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com',
    AZURE_OPENAI_DEPLOYMENTS: 'gpt-4o=prod',
  });

  it('resolves a bare name to every provider serving it, in config order, with Azure deployment names', () => {
    const { deployments } = catalog.resolve('gpt-4o');
    expect(deployments.map((deployment) => [deployment.provider, deployment.upstreamModel])).toEqual([
      ['openai', 'gpt-4o'],
      ['azure_openai', 'prod'],
    ]);
  });

  it('resolves provider/model to that provider and passes unknown models through with a warning', () => {
    expect(catalog.resolve('azure_openai/gpt-4o').deployments.map((deployment) => deployment.upstreamModel)).toEqual(['prod']);
    const passthrough = catalog.resolve('openai/gpt-9-preview');
    expect(passthrough.deployments[0]?.known).toBe(false);
    expect(passthrough.warnings[0]).toMatch(/cost unknown/);
  });

  it('expands aliases in order', () => {
    expect(catalog.resolve('fast').deployments.map((deployment) => `${deployment.provider}/${deployment.upstreamModel}`)).toEqual([
      'anthropic/claude-3-5-haiku-latest',
      'openai/gpt-4o-mini',
    ]);
  });

  it('answers an unknown model with a 404 that suggests close names', () => {
    try {
      catalog.resolve('gpt-4o-mimi');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).status).toBe(404);
      expect((error as GatewayError).code).toBe(ErrorCode.unknownModel);
      expect((error as GatewayError).message).toContain("'gpt-4o-mini'");
    }
  });
});
