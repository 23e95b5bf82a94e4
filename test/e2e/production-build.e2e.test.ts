import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * The production build (`npm run build`, ADR 0014) works on its own: the esbuild bundle, run with plain
 * node, serves a completion, GraphQL over HTTP and WebSocket (the lazily loaded chunks and schema.graphql),
 * runs a JavaScript function (QuickJS's WebAssembly found from the bundle) and a rule, and its CLI
 * creates keys and checks workflow files. Every other e2e test runs the source through tsx.
 */
const root = resolve(import.meta.dirname, '../..');
const adminKey = 'cb-admin-production-build-5c1a';
let outdir: string;
let bundle: string;
let dataDir: string;
let upstream: Emulator;
let gateway: GatewayProcess;
let key: string;

const cli = (args: string[]) =>
  spawnSync(process.execPath, [bundle, ...args], {
    cwd: dataDir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dataDir, CB_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 60_000,
  });

const call = async (path: string, body?: unknown, bearer = key) => {
  const response = await fetch(`${gateway.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  // Inside the checkout (under dist/), so the bundle's external packages resolve from node_modules as in production.
  mkdirSync(join(root, 'dist'), { recursive: true });
  outdir = mkdtempSync(join(root, 'dist', 'bundle-test-'));
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--outdir', outdir], { cwd: root, stdio: 'pipe' });
  bundle = join(outdir, 'main.js');
  dataDir = mkdtempSync(join(tmpdir(), 'cb-production-build-'));
  upstream = await startEmulator({ kind: 'openai' });
}, 120_000);
afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(outdir, { recursive: true, force: true });
});

describe('the production build', () => {
  it('keeps what the first completion does not need out of the start-up chunks (esbuild metafile)', () => {
    const meta = JSON.parse(readFileSync(join(outdir, 'meta.json'), 'utf8')) as {
      outputs: Record<string, { imports: { path: string; kind: string }[]; inputs: Record<string, unknown> }>;
    };
    const output = (file: string) => Object.keys(meta.outputs).find((name) => name.endsWith(`/${file}`) || name === file);
    const chunkOf = (input: string) => Object.keys(meta.outputs).find((name) => input in (meta.outputs[name]?.inputs ?? {}));
    // What `serve` loads before it listens: main.js, the serve chunks, and what they import statically.
    const startUp = new Set<string>();
    const pending = [output('main.js'), chunkOf('src/cli/serve-command.ts'), chunkOf('src/cli/serve.ts')];
    while (pending.length > 0) {
      const name = pending.pop();
      if (name === undefined || startUp.has(name) || !meta.outputs[name]) continue;
      startUp.add(name);
      for (const imported of meta.outputs[name].imports) if (imported.kind === 'import-statement') pending.push(imported.path);
    }
    const inputs = [...startUp].flatMap((name) => Object.keys(meta.outputs[name]?.inputs ?? {}));
    expect(inputs).toContain('src/http/server.ts');
    for (const lazy of [
      /node_modules\/undici\//, // with the first upstream call, and then not its index (fetch, WebSocket, mocks…)
      /node_modules\/graphql/,
      /node_modules\/commander\//, // `serve` alone skips the CLI program
      /node_modules\/zod\/v4\/locales\/(?!en\.js)/, // English only
      /node_modules\/ajv\//, // Fastify's schema compilers are external and never loaded
      /node_modules\/@bufbuild\//,
    ])
      expect(inputs.filter((input) => lazy.test(input))).toEqual([]);
    const undiciChunk = chunkOf('node_modules/undici/lib/dispatcher/agent.js');
    expect(undiciChunk).toBeDefined();
    expect(Object.keys(meta.outputs).some((name) => 'node_modules/undici/index.js' in (meta.outputs[name]?.inputs ?? {}))).toBe(false);
  });

  it('creates a gateway key and checks a workflow file from the CLI', () => {
    const created = cli(['keys', 'create', '--name', 'build check']);
    expect(created.status, created.stderr).toBe(0);
    key = created.stdout.trim();
    expect(key).toMatch(/^cb_[\w-]{43}$/);
    const checked = cli(['workflow', 'check', join(root, 'examples/workflows/document-review.yaml')]);
    expect(checked.status, checked.stderr).toBe(0);
    expect(checked.stdout).toContain('the definition can be published');
  });

  it('serves a completion, GraphQL over HTTP and WebSocket, a JavaScript function and a rule', async () => {
    gateway = await startGateway({
      bundle,
      dataDir,
      env: { OPENAI_API_KEY: 'sk-production-build', OPENAI_BASE_URL: upstream.url, CB_ADMIN_KEY: adminKey },
    });

    const completion = await call('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.status).toBe(200);
    expect(completion.json).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant' } }] });

    const query = await call('/graphql', { query: '{ models(first: 50) { nodes { id } } }' });
    expect(query.status).toBe(200);
    expect(JSON.stringify(query.json['data'])).toContain('gpt-4o-mini');

    const client = createClient({
      url: `${gateway.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${key}` },
    });
    try {
      const overSocket = await new Promise<unknown>((done, fail) => {
        let result: unknown;
        client.subscribe(
          { query: '{ providers { nodes { name } } }' },
          { next: (value) => (result = value), error: fail, complete: () => done(result) },
        );
      });
      expect(overSocket).toMatchObject({ data: { providers: { nodes: [{ name: 'openai' }] } } });
    } finally {
      await client.dispose();
    }

    const registered = await call(
      '/api/v1/functions',
      { name: 'double', runtime: 'javascript', code: 'return { value: input.n * 2 };' },
      adminKey,
    );
    expect(registered.status).toBe(201);
    const run = await call('/api/v1/functions/double/invoke', { input: { n: 21 } }, adminKey);
    expect(run.json).toMatchObject({ status: 'completed', output: { value: 42 } });

    const rule = await call(
      '/api/v1/rules/evaluate',
      { rule: 'token.data.total > 10 && token.data.tag.matches("^vip")', data: { token: { data: { total: 12, tag: 'vip-1' } } } },
      adminKey,
    );
    expect(rule.status).toBe(200);
    expect(rule.json).toMatchObject({ passed: true });
  });
});
