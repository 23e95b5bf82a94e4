import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BubblewrapRunner } from '../../src/functions/bubblewrap-runner.js';
import { backends } from './support/backends.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Functions through the real server on each storage backend: register (admin key), invoke a QuickJS
 * and a sandboxed process function, read executions, the refusals (400 with every problem, 404, 409,
 * 401/403), and no secret in any response, log line or stored byte.
 */
const adminKey = 'cb-admin-functions-e2e-7c1d';
const secretValue = 'tok-functions-e2e-secret-5512';
const bwrapReady = (await new BubblewrapRunner().readiness()).ready;

for (const backend of await backends()) {
  describe(`functions over REST (${backend.name})`, () => {
    let gateway: GatewayProcess;
    let env: Record<string, string>;
    const seen: string[] = [];
    const call = async (path: string, init: { method?: string; body?: unknown; key?: string | null } = {}) => {
      const headers: Record<string, string> = {};
      if (init.key !== null) headers['authorization'] = `Bearer ${init.key ?? adminKey}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${gateway.url}${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await response.text();
      seen.push(text);
      return {
        status: response.status,
        json: (text ? JSON.parse(text) : null) as Record<string, unknown> & { data: Record<string, unknown>[] },
      };
    };

    beforeAll(async () => {
      env = { ...backend.env(), CB_ADMIN_KEY: adminKey, CB_SECRET_API_TOKEN: secretValue };
      gateway = await startGateway({ env });
    }, 60_000);
    afterAll(async () => {
      await gateway?.stop();
      await backend.cleanup();
    });

    it('registers, lists, gets and invokes a javascript function', async () => {
      const created = await call('/api/v1/functions', {
        method: 'POST',
        body: {
          name: 'total',
          runtime: 'javascript',
          code: 'console.log("token", context.env.TOKEN); return { total: input.items.reduce((a, b) => a + b, 0) };',
          secrets: { TOKEN: 'api-token' },
          inputSchema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { type: 'number' } } } },
        },
      });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ name: 'total', version: 1 });
      expect((await call('/api/v1/functions')).json.data.map((entry) => entry['name'])).toEqual(['total']);
      expect((await call('/api/v1/functions/total')).json).toMatchObject({ definition: { runtime: 'javascript' } });
      const run = await call('/api/v1/functions/total/invoke', { method: 'POST', body: { input: { items: [1, 2, 3] } } });
      expect(run.status).toBe(200);
      expect(run.json).toMatchObject({ status: 'completed', output: { total: 6 }, stdout: 'token [redacted]\n', attempt: 1 });
      const bad = await call('/api/v1/functions/total/invoke', { method: 'POST', body: { input: { items: ['x'] } } });
      expect(bad.json).toMatchObject({ status: 'failed', error: { code: 'invalid_input' } });
      const list = await call('/api/v1/functions/total/executions?status=completed');
      expect(list.json.data.map((entry) => entry['id'])).toEqual([run.json['id']]);
      expect((await call(`/api/v1/function-executions/${String(run.json['id'])}`)).json).toMatchObject({ output: { total: 6 } });
      const queued = await call('/api/v1/functions/total/invoke', { method: 'POST', body: { input: { items: [4] }, wait: false } });
      expect(queued.status).toBe(202);
    });

    it.skipIf(!bwrapReady)('invokes a process function in the sandbox', async () => {
      await call('/api/v1/functions', {
        method: 'POST',
        body: {
          name: 'shell',
          runtime: 'process',
          code: 'echo "working" >&2; printf \'{"got":%s,"who":"%s"}\\n\' "$INPUT_DATA" "$(id -u)"',
        },
      });
      const run = await call('/api/v1/functions/shell/invoke', { method: 'POST', body: { input: { a: 1 } } });
      expect(run.json).toMatchObject({ status: 'completed', output: { got: { a: 1 }, who: '65534' }, stderr: 'working\n', exit_code: 0 });
      const ready = await call('/ready', { key: null });
      expect(ready.json).toMatchObject({ functions: { javascript: { ready: true }, process: { ready: true } } });
    });

    it('refuses what it cannot do with the right status and a message', async () => {
      const invalid = await call('/api/v1/functions', {
        method: 'POST',
        body: { name: 'bad name', runtime: 'javascript', triggers: [{ on: 'token_created', filter: 'nope.x > 1' }] },
      });
      expect(invalid.status).toBe(400);
      const message = String((invalid.json['error'] as { message: string }).message);
      expect(message).toContain('name');
      expect(message).toContain("needs 'code'");
      expect((await call('/api/v1/functions/missing')).status).toBe(404);
      expect((await call('/api/v1/functions/missing/invoke', { method: 'POST', body: {} })).status).toBe(404);
      expect(
        (await call('/api/v1/functions', { method: 'POST', body: { name: 'total', runtime: 'javascript', code: 'return 1' } })).status,
      ).toBe(409);
      expect((await call('/api/v1/functions/total/invoke', { method: 'POST', body: { inputs: {} } })).status).toBe(400);
      expect((await call('/api/v1/functions/total/executions?limit=0')).status).toBe(400);
      expect((await call('/api/v1/functions', { key: null })).status).toBe(401);
    });

    it('updates a definition to a new version', async () => {
      const updated = await call('/api/v1/functions/total', { method: 'PUT', body: { runtime: 'javascript', code: 'return 0' } });
      expect(updated.json).toMatchObject({ version: 2 });
      expect((await call('/api/v1/functions/total/invoke', { method: 'POST', body: {} })).json).toMatchObject({
        output: 0,
        function_version: 2,
      });
      expect((await call('/api/v1/functions/total', { method: 'DELETE' })).status).toBe(204);
    });

    it('never shows the secret: responses, logs, storage', async () => {
      const stored = await backend.dump(gateway.dataDir, env);
      for (const text of [...seen, ...gateway.logs, stored]) expect(text).not.toContain(secretValue);
    });
  });
}
