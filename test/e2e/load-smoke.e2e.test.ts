import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { validateChunkStream } from '../support/chunk-stream-validator.js';
import { startGateway, tsxLoader } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * The benchmark's smoke run, in CI: a burst of concurrent plain and streamed requests through the real
 * server in the configuration the benchmark's targets apply to — a gateway key (created with the CLI, as
 * an operator would), the usage ledger and the metrics. It fails if any request errors, returns something
 * malformed or hangs, or if the ledger or the metrics lose requests — never on timing (speed is measured
 * by `npm run bench`, not asserted here).
 */
const root = resolve(import.meta.dirname, '../..');
const adminKey = 'cb-admin-load-smoke-5d2a';
let dataDir: string;
let upstream: Emulator;
let anthropic: Emulator;
let gateway: GatewayProcess;
let key: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cb-load-smoke-'));
  const created = spawnSync(
    process.execPath,
    ['--import', tsxLoader, join(root, 'src/main.ts'), 'keys', 'create', '--name', 'load-smoke'],
    {
      cwd: dataDir,
      env: { PATH: process.env['PATH'] ?? '', CB_DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  key = created.stdout.trim();
  expect(key, created.stderr).toMatch(/^cb_/);
  upstream = await startEmulator({ kind: 'openai' });
  anthropic = await startEmulator({ kind: 'anthropic' });
  gateway = await startGateway({
    dataDir,
    env: {
      CB_ADMIN_KEY: adminKey,
      OPENAI_API_KEY: 'sk-smoke-key',
      OPENAI_BASE_URL: upstream.url,
      ANTHROPIC_API_KEY: 'sk-smoke-ant',
      ANTHROPIC_BASE_URL: anthropic.url,
    },
  });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  await anthropic?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The key's request count in the ledger (`GET /api/v1/metrics`, scoped to the calling key). */
async function ledgerRequests(): Promise<number> {
  const response = await fetch(`${gateway.url}/api/v1/metrics?timeframe=last_hour`, { headers: { authorization: `Bearer ${key}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { requests: { total: number } }).requests.total;
}

describe('load smoke', () => {
  it('answers 1,000 requests at concurrency 50 (JSON and SSE, passthrough and translated) without an error', async () => {
    let next = 0;
    const failures: string[] = [];
    const worker = async (): Promise<void> => {
      while (next < 1_000) {
        const index = next++;
        const stream = index % 2 === 0;
        const model = index % 4 < 2 ? 'gpt-4o' : 'anthropic/claude-3-5-sonnet-latest';
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: `request ${index}` }] }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = await response.text();
        try {
          expect(response.status).toBe(200);
          const text = stream ? validateChunkStream(body).text[0] : (JSON.parse(body).choices[0].message.content as string);
          expect(text).toMatch(new RegExp(`request ${index}$`));
        } catch (error) {
          failures.push(`${index} (${model}, stream ${stream}): ${String(error).slice(0, 200)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    expect(failures).toEqual([]);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    // Every answered request reaches the ledger (it flushes every 250 ms) and the metrics.
    const deadline = Date.now() + 15_000;
    let recorded = await ledgerRequests();
    while (recorded < 1_000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      recorded = await ledgerRequests();
    }
    expect(recorded).toBe(1_000);
    const scrape = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(scrape.status).toBe(200);
    const counted = [...(await scrape.text()).matchAll(/^cb_requests_total\{[^}]*\} (\d+)/gm)].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    );
    expect(counted).toBe(1_000);
  }, 120_000);
});
