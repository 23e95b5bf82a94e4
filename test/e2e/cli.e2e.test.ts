import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGateway } from './support/gateway-process.js';

const root = resolve(import.meta.dirname, '../..');
/** tsx's loader by absolute URL: the child runs in a scratch directory with no node_modules. */
const tsxLoader = import.meta.resolve('tsx');

function run(args: string[], env: Record<string, string>, cwd: string) {
  return spawnSync(process.execPath, ['--import', tsxLoader, join(root, 'src/main.ts'), ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('circuit-breaker CLI', () => {
  it('config check prints the effective config with secrets redacted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-cli-'));
    const result = run(['config', 'check'], { OPENAI_API_KEY: 'sk-very-secret-value', ANTHROPIC_API_KEYS: 'sk-a1,sk-a2' }, dir);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('[redacted from env:OPENAI_API_KEY]');
    expect(result.stdout).toContain('"name": "anthropic"');
    expect(result.stdout + result.stderr).not.toContain('sk-very-secret-value');
    expect(result.stdout + result.stderr).not.toContain('sk-a2');
  });

  it('config check and serve refuse a bad file, naming the file, the path and what was expected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-cli-'));
    writeFileSync(join(dir, 'circuit-breaker.yaml'), 'providers:\n  openai: { api_keys: [sk-literal-key] }\n');
    for (const args of [['config', 'check'], ['serve']]) {
      const result = run(args, { PORT: '0' }, dir);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('circuit-breaker.yaml: providers.openai.api_keys[0]');
      expect(result.stderr).toContain('env:NAME');
      expect(result.stderr).not.toContain('sk-literal-key');
    }
  });

  it('serve starts with no provider at all, says so, and answers /health and /ready', async () => {
    const gateway = await startGateway();
    try {
      expect(gateway.logs.join('\n')).toMatch(/no provider configured/);
      expect(gateway.logs.join('\n')).toMatch(/loopback only/);
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
      const ready = await fetch(`${gateway.url}/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { store: { backend: string } }).store.backend).toBe('sqlite');
      const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(chat.status).toBe(404);
      expect(((await chat.json()) as { error: { message: string } }).error.message).toMatch(
        /No provider is configured: set OPENAI_API_KEY/,
      );
    } finally {
      await gateway.stop();
    }
  });

  it('with CB_ADMIN_KEY set, requires it as a Bearer token', async () => {
    const gateway = await startGateway({ env: { CB_ADMIN_KEY: 'cb-admin-test-key' } });
    try {
      const without = await fetch(`${gateway.url}/v1/models`);
      expect(without.status).toBe(401);
      const wrong = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      const right = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: 'Bearer cb-admin-test-key' } });
      expect(right.status).toBe(200);
      expect(gateway.logs.join('\n')).not.toContain('cb-admin-test-key');
    } finally {
      await gateway.stop();
    }
  });
});
