import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/** `circuit-breaker keys create|list|revoke|rotate-master` against the store a running server uses. */
const root = resolve(import.meta.dirname, '../..');
const tsxLoader = import.meta.resolve('tsx');
const oldMaster = '11'.repeat(32);
const newMaster = '22'.repeat(32);

let dataDir: string;
let upstream: Emulator;
let gateway: GatewayProcess;
const env = (): Record<string, string> => ({
  CB_DATA_DIR: dataDir,
  OPENAI_API_KEY: 'sk-cli-keys-upstream',
  OPENAI_BASE_URL: upstream.url,
  CB_MASTER_KEY: oldMaster,
});

function cli(args: string[], extra: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', tsxLoader, join(root, 'src/main.ts'), ...args], {
    cwd: dataDir,
    env: { PATH: process.env['PATH'] ?? '', ...env(), ...extra },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cb-cli-keys-'));
  upstream = await startEmulator({ kind: 'openai' });
  gateway = await startGateway({ env: { ...env(), CB_ADMIN_KEY: 'cb-admin-cli-keys-3e1f' }, dataDir });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const chat = (key: string) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });

describe('circuit-breaker keys', () => {
  it('creates a key the running server accepts, lists it without the key, and revokes it', async () => {
    const created = cli(['keys', 'create', '--name', 'ci bot', '--project', 'infra', '--rpm', '60', '--models', 'gpt-4o-mini']);
    expect(created.status).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^cb_[\w-]{43}$/);
    expect(created.stderr).toContain('shown once');
    expect((await chat(key)).status).toBe(200);

    const listed = cli(['keys', 'list', '--json']);
    expect(listed.status).toBe(0);
    const keys = JSON.parse(listed.stdout) as {
      id: string;
      name: string;
      status: string;
      owner: { project: string };
      scopes: { rpm: number };
    }[];
    expect(keys).toEqual([
      expect.objectContaining({
        name: 'ci bot',
        status: 'active',
        owner: { project: 'infra' },
        scopes: { rpm: 60, models: ['gpt-4o-mini'] },
      }),
    ]);
    expect(listed.stdout).not.toContain(key);
    expect(cli(['keys', 'list']).stdout).toContain('ci bot');

    const id = keys[0]?.id ?? '';
    const revoked = cli(['keys', 'revoke', id]);
    expect(revoked.status).toBe(0);
    expect(revoked.stderr).toContain(`revoked ${id}`);
    // The server caches lookups for 5 s; a revocation made elsewhere reaches it within that.
    await new Promise((resolve) => setTimeout(resolve, 5_200));
    expect((await chat(key)).status).toBe(401);
    const missing = cli(['keys', 'revoke', 'key_0000000000000000']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no gateway key');
    const invalid = cli(['keys', 'create', '--name', 'x', '--rpm', 'lots']);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain('--rpm must be a positive whole number');
  }, 120_000);

  it('rotates the master key: stored provider keys are re-encrypted and still usable after a restart', async () => {
    const added = await fetch(`${gateway.url}/api/v1/providers/openai/keys`, {
      method: 'POST',
      headers: { authorization: 'Bearer cb-admin-cli-keys-3e1f', 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'sk-stored-before-rotation-77' }),
    });
    expect(added.status).toBe(201);
    const missing = cli(['keys', 'rotate-master']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('CB_NEW_MASTER_KEY');
    const rotated = cli(['keys', 'rotate-master'], { CB_NEW_MASTER_KEY: newMaster });
    expect(rotated.status).toBe(0);
    expect(rotated.stderr).toContain('re-encrypted 1 provider key');
    await gateway.stop();
    gateway = await startGateway({ env: { ...env(), CB_MASTER_KEY: newMaster, CB_ADMIN_KEY: 'cb-admin-cli-keys-3e1f' }, dataDir });
    upstream.reset();
    for (let index = 0; index < 2; index++) await chat('cb-admin-cli-keys-3e1f');
    expect(upstream.requests.map((request) => request.headers['authorization'])).toContain('Bearer sk-stored-before-rotation-77');
    expect(gateway.logs.join('\n')).not.toContain('cannot be decrypted');
  }, 120_000);
});
