import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { backends } from './support/backends.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Gateway keys, scopes and provider keys added at run time, through the real server on each storage
 * backend — and, after the whole run, a grep of every log line, response and stored byte for every
 * secret the run used: none may appear in clear.
 */
const adminKey = 'cb-admin-e2e-secret-9f3a1c';
const masterKey = 'a3'.repeat(32);
const envProviderKey = 'sk-env-openai-key-0001-e2e';
const runtimeProviderKey = 'sk-runtime-added-key-0002-e2e';

for (const backend of await backends()) {
  describe(`gateway keys (${backend.name})`, () => {
    let upstream: Emulator;
    let gateway: GatewayProcess;
    let env: Record<string, string>;
    const seen: string[] = [];
    const secrets = [adminKey, masterKey, envProviderKey, runtimeProviderKey];

    /** fetch that keeps every response (headers and body) for the secret grep at the end. */
    const call = async (
      path: string,
      init: RequestInit & { key?: string } = {},
    ): Promise<{ status: number; headers: Headers; body: string; json: () => unknown }> => {
      const headers = new Headers(init.headers);
      if (init.key) headers.set('authorization', `Bearer ${init.key}`);
      if (init.body) headers.set('content-type', 'application/json');
      const response = await fetch(`${gateway.url}${path}`, { ...init, headers });
      const body = await response.text();
      // The one answer that carries a key by design (shown once, at creation) is left out of the grep.
      const creation = init.method === 'POST' && path === '/api/v1/keys' && response.status === 201;
      seen.push(
        JSON.stringify([...response.headers.entries()]),
        creation ? body.replace(/"key":"cb_[\w-]+"/, '"key":"(shown once)"') : body,
      );
      return { status: response.status, headers: response.headers, body, json: () => JSON.parse(body) };
    };
    const chat = (key: string | undefined, model = 'gpt-4o-mini') =>
      call('/v1/chat/completions', { method: 'POST', key, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });

    beforeAll(async () => {
      upstream = await startEmulator({ kind: 'openai' });
      env = {
        ...backend.env(),
        CB_ADMIN_KEY: adminKey,
        CB_MASTER_KEY: masterKey,
        OPENAI_API_KEY: envProviderKey,
        OPENAI_BASE_URL: upstream.url,
      };
      gateway = await startGateway({ env });
    }, 60_000);
    afterAll(async () => {
      await gateway?.stop();
      await upstream?.close();
      await backend.cleanup();
    });

    it('refuses requests without a key, or with a wrong one, with a 401 that says what to send', async () => {
      const missing = await chat(undefined);
      expect(missing.status).toBe(401);
      expect(missing.body).toContain('Authorization: Bearer');
      const wrong = await chat('cb_' + 'x'.repeat(43));
      expect(wrong.status).toBe(401);
      expect(upstream.requests).toHaveLength(0);
    });

    it('issues a key through the admin API that works with the official SDK and is attributed to its owner', async () => {
      const created = await call('/api/v1/keys', {
        method: 'POST',
        key: adminKey,
        body: JSON.stringify({ name: 'ana laptop', owner: { user: 'ana', project: 'web' } }),
      });
      expect(created.status).toBe(201);
      const { key, id, prefix } = created.json() as { key: string; id: string; prefix: string };
      secrets.push(key);
      expect(key).toMatch(/^cb_[\w-]{43}$/);
      expect(key.startsWith(prefix)).toBe(true);
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
      expect(completion.choices[0]?.message.content).toContain('hello');
      const listed = (await call('/api/v1/keys', { key: adminKey })).json() as { data: Record<string, unknown>[] };
      const entry = listed.data.find((item) => item['id'] === id);
      expect(entry).toMatchObject({ name: 'ana laptop', status: 'active', owner: { user: 'ana', project: 'web' } });
      expect(JSON.stringify(listed)).not.toContain(key);
      expect(Object.keys(entry ?? {})).not.toContain('hash');
      // A gateway key is not an admin key.
      const forbidden = await call('/api/v1/keys', { key });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toContain('admin key');
      await waitFor(async () => {
        const usage = (await call('/api/v1/usage', { key })).json() as { data: { userId: string; projectId: string; keyId: string }[] };
        return (
          usage.data.length === 1 && usage.data[0]?.userId === 'ana' && usage.data[0]?.projectId === 'web' && usage.data[0]?.keyId === id
        );
      });
    });

    it("enforces a key's model scope with a 403 that lists what it may use, and hides other models from its model list", async () => {
      const created = (
        await call('/api/v1/keys', {
          method: 'POST',
          key: adminKey,
          body: JSON.stringify({ name: 'mini only', scopes: { models: ['gpt-4o-mini'] } }),
        })
      ).json() as { key: string };
      secrets.push(created.key);
      expect((await chat(created.key, 'gpt-4o-mini')).status).toBe(200);
      const refused = await chat(created.key, 'gpt-4o');
      expect(refused.status).toBe(403);
      expect(refused.json()).toMatchObject({ error: { code: 'permission_denied', param: 'model' } });
      expect(refused.body).toContain('gpt-4o-mini');
      const models = (await call('/v1/models', { key: created.key })).json() as { data: { id: string }[] };
      expect(models.data.map((model) => model.id)).toEqual(['gpt-4o-mini']);
    });

    it('revokes a key at once and refuses an expired one, naming it', async () => {
      const created = (await call('/api/v1/keys', { method: 'POST', key: adminKey, body: JSON.stringify({ name: 'temp' }) })).json() as {
        key: string;
        id: string;
      };
      secrets.push(created.key);
      expect((await chat(created.key)).status).toBe(200);
      expect((await call(`/api/v1/keys/${created.id}`, { method: 'DELETE', key: adminKey })).json()).toMatchObject({ status: 'revoked' });
      const revoked = await chat(created.key);
      expect(revoked.status).toBe(401);
      expect(revoked.body).toContain("'temp'");
      expect(revoked.body).toContain('revoked');
      const soon = new Date(Date.now() + 1500).toISOString();
      const expiring = (
        await call('/api/v1/keys', { method: 'POST', key: adminKey, body: JSON.stringify({ name: 'short', expires_at: soon }) })
      ).json() as { key: string };
      secrets.push(expiring.key);
      expect((await chat(expiring.key)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1700));
      const expired = await chat(expiring.key);
      expect(expired.status).toBe(401);
      expect(expired.body).toContain('expired');
      expect((await call('/api/v1/keys/key_doesnotexist', { method: 'DELETE', key: adminKey })).status).toBe(404);
      const invalid = await call('/api/v1/keys', {
        method: 'POST',
        key: adminKey,
        body: JSON.stringify({ name: '', scopes: { rpm: -1 } }),
      });
      expect(invalid.status).toBe(400);
    });

    it('stores a provider key added at run time encrypted, uses it at once, and shows only its fingerprint', async () => {
      const added = await call('/api/v1/providers/openai/keys', {
        method: 'POST',
        key: adminKey,
        body: JSON.stringify({ key: runtimeProviderKey, label: 'second' }),
      });
      expect(added.status).toBe(201);
      expect(added.json()).toMatchObject({ provider: 'openai', label: 'second', fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/) });
      upstream.reset();
      for (let index = 0; index < 4; index++) expect((await chat(adminKey)).status).toBe(200);
      const used = new Set(upstream.requests.map((request) => request.headers['authorization']));
      expect(used).toEqual(new Set([`Bearer ${envProviderKey}`, `Bearer ${runtimeProviderKey}`]));
      const listed = await call('/api/v1/providers/openai/keys', { key: adminKey });
      expect(listed.body).not.toContain(runtimeProviderKey);
      expect(
        (await call('/api/v1/providers/nope/keys', { method: 'POST', key: adminKey, body: JSON.stringify({ key: 'sk-whatever-123' }) }))
          .status,
      ).toBe(404);
      const health = (await call('/api/v1/providers/health', { key: adminKey })).json() as {
        providers: { name: string; keys: unknown[] }[];
      };
      expect(health.providers.find((provider) => provider.name === 'openai')?.keys).toHaveLength(2);
    });

    it('masks a provider key an upstream echoes back in its error', async () => {
      upstream.enqueue({ fault: { type: 'status', status: 401, message: `Incorrect API key provided: ${envProviderKey}.` } });
      upstream.enqueue({ fault: { type: 'status', status: 401, message: `Incorrect API key provided: ${runtimeProviderKey}.` } });
      const first = await chat(adminKey);
      const second = await chat(adminKey);
      expect([first.status, second.status]).toEqual([502, 502]);
      expect(first.body + second.body).toContain('[redacted]');
    });

    it('after the run, no secret appears in any log line, response or stored byte', async () => {
      await new Promise((resolve) => setTimeout(resolve, 400)); // one ledger flush
      const stored = await backend.dump(gateway.dataDir, env);
      expect(stored.length).toBeGreaterThan(0);
      const haystacks = { logs: gateway.logs.join('\n'), responses: seen.join('\n'), stored };
      for (const secret of secrets)
        for (const [where, text] of Object.entries(haystacks))
          expect(text.includes(secret), `${secret.slice(0, 6)}… in ${where}`).toBe(false);
    });
  });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
