import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { loadConfig } from './load-config.js';
import { printableConfig } from './print-config.js';

function directory(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-config-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

function problems(env: Record<string, string>, cwd: string): string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('loadConfig', () => {
  it('builds providers from the environment variables the spec names, key pools included', () => {
    const config = loadConfig(
      {
        OPENAI_API_KEYS: 'sk-one, sk-two',
        OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
        ANTHROPIC_API_KEY: 'sk-ant',
        GOOGLE_API_KEY: 'g-key',
        AZURE_OPENAI_API_KEY: 'az',
        AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com',
        AZURE_OPENAI_API_VERSION: '2024-10-21',
        AZURE_OPENAI_DEPLOYMENTS: 'gpt-4o=prod-4o,gpt-4o-mini',
        OLLAMA_BASE_URL: 'http://127.0.0.1:11434',
        CUSTOM_LLM_ENDPOINT: 'http://127.0.0.1:8000/v1',
        PORT: '4100',
      },
      directory(),
    );
    expect(config.server.port).toBe(4100);
    expect(config.providers.map((provider) => [provider.name, provider.kind])).toEqual([
      ['openai', 'openai'],
      ['anthropic', 'anthropic'],
      ['google', 'gemini'],
      ['azure_openai', 'azure'],
      ['ollama', 'ollama'],
      ['custom', 'openai_compatible'],
    ]);
    const openai = config.providers[0];
    expect(openai?.apiKeys.map((key) => key.reveal())).toEqual(['sk-one', 'sk-two']);
    expect(openai?.baseUrl).toBe('http://127.0.0.1:9/v1');
    expect(config.providers[3]?.deployments).toEqual({ 'gpt-4o': 'prod-4o', 'gpt-4o-mini': 'gpt-4o-mini' });
    expect(config.storage.backend).toBe('sqlite');
  });

  it('reads the YAML file, resolves env: and file: references and keeps secrets out of printed output', () => {
    const dir = directory({ key: 'sk-from-file\n' });
    writeFileSync(
      join(dir, 'circuit-breaker.yaml'),
      [
        'providers:',
        '  openai: { api_keys: [env:MY_KEY], models: { gpt-4o: { input_price: 1, output_price: 2 } } }',
        `  vllm: { kind: openai_compatible, base_url: "http://127.0.0.1:8000/v1", api_key: "file:${join(dir, 'key')}" }`,
        'models:',
        '  fast: { primary: openai, model: gpt-4o }',
      ].join('\n'),
    );
    const config = loadConfig({ MY_KEY: 'sk-secret-value' }, dir);
    expect(config.providers.find((provider) => provider.name === 'vllm')?.apiKeys[0]?.reveal()).toBe('sk-from-file');
    expect(config.aliases['fast']).toEqual({ targets: ['openai'], model: 'gpt-4o' });
    const printed = printableConfig(config);
    expect(printed).not.toContain('sk-secret-value');
    expect(printed).not.toContain('sk-from-file');
    expect(printed).toContain('[redacted from env:MY_KEY]');
    expect(inspect(config)).not.toContain('sk-secret-value');
  });

  it('refuses a bad file with the file, the path inside it and what was expected', () => {
    const dir = directory({
      'circuit-breaker.yaml':
        'providers:\n  openai: { api_keys: [sk-literal], rpm: 5 }\n  mystery: { base_url: "http://x" }\nserver: { port: "high" }\n',
    });
    const issues = problems({}, dir);
    const file = join(dir, 'circuit-breaker.yaml');
    expect(issues.some((issue) => issue.startsWith(`${file}: providers.openai`) && issue.includes('rpm'))).toBe(true);
    expect(issues.some((issue) => issue.startsWith(`${file}: server.port`))).toBe(true);
  });

  it('refuses literal secrets, unset variables, unknown kinds and bad env values, all at once', () => {
    const dir = directory({
      'circuit-breaker.yaml':
        'providers:\n  openai: { api_keys: [sk-literal] }\n  anthropic: { api_key: env:NOPE }\n  mystery: { base_url: "http://127.0.0.1:1" }\n',
    });
    const issues = problems({ PORT: 'eighty', OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'not a url' }, dir);
    expect(issues.join('\n')).toMatch(/providers\.openai\.api_keys\[0\]: a secret must be a reference/);
    expect(issues.join('\n')).toMatch(/providers\.anthropic\.api_keys\[0\]: environment variable NOPE is not set/);
    expect(issues.join('\n')).toMatch(/providers\.mystery\.kind: required/);
    expect(issues.join('\n')).toMatch(/PORT: expected a whole number, got 'eighty'/);
    expect(issues.join('\n')).toMatch(/OPENAI_BASE_URL: expected an http\(s\) URL/);
  });

  it('reports broken YAML with the file name', () => {
    const dir = directory({ 'circuit-breaker.yaml': 'providers: [unclosed' });
    expect(problems({}, dir)[0]).toContain('circuit-breaker.yaml');
  });

  it('refuses an alias that points at a provider that is not configured', () => {
    const dir = directory({ 'circuit-breaker.yaml': 'models:\n  smart: { primary: anthropic }\n' });
    expect(problems({}, dir)[0]).toMatch(/models\.smart: provider 'anthropic' is not configured/);
  });

  it("parses the seed's model entries: cost_limit, performance_target and {providers, strategy} virtual models", () => {
    const dir = directory({
      'circuit-breaker.yaml': [
        'providers:',
        '  openai: { api_key: env:OPENAI_KEY }',
        '  anthropic: { api_key: env:ANTHROPIC_KEY }',
        'models:',
        '  gpt-4: { primary: openai, fallback: [anthropic/claude-3-5-sonnet-latest], cost_limit: "$0.03/1k_tokens" }',
        '  claude-3: { primary: anthropic, performance_target: 2s }',
        '  quick: { primary: openai/gpt-4o-mini, performance_target: 800ms, cost_limit: "0.5/1k" }',
        '  code_generation: { providers: [openai, anthropic], strategy: performance_first }',
      ].join('\n'),
    });
    const config = loadConfig({ OPENAI_KEY: 'k1', ANTHROPIC_KEY: 'k2' }, dir);
    expect(config.aliases).toEqual({
      'gpt-4': { targets: ['openai', 'anthropic/claude-3-5-sonnet-latest'], model: 'gpt-4', maxCostPer1kTokens: 0.03 },
      'claude-3': { targets: ['anthropic'], model: 'claude-3', maxLatencyMs: 2_000 },
      quick: { targets: ['openai/gpt-4o-mini'], model: 'quick', maxLatencyMs: 800, maxCostPer1kTokens: 0.5 },
      code_generation: { targets: ['openai', 'anthropic'], model: 'code_generation', strategy: 'performance_first' },
    });
  });

  it('refuses a cost_limit or performance_target it cannot read, saying what it expected', () => {
    const dir = directory({
      'circuit-breaker.yaml': [
        'providers:',
        '  openai: { api_key: env:OPENAI_KEY }',
        'models:',
        '  a: { primary: openai, cost_limit: "three cents" }',
        '  b: { primary: openai, performance_target: "fast" }',
      ].join('\n'),
    });
    const issues = problems({ OPENAI_KEY: 'k' }, dir).join('\n');
    expect(issues).toMatch(/models\.a\.cost_limit: expected a price per 1,000 tokens like "\$0\.03\/1k_tokens", got 'three cents'/);
    expect(issues).toMatch(/models\.b\.performance_target: expected a duration like "2s" or "800ms", got 'fast'/);
    const strategy = directory({ 'circuit-breaker.yaml': 'models:\n  c: { providers: [openai], strategy: cheapest }\n' });
    expect(problems({}, strategy).join('\n')).toMatch(/models\.c\.strategy: Invalid option: expected one of "cost_optimized"/);
  });
});
