import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppContainer } from '../../src/app/container.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/core/logger.js';
import { buildServer } from '../../src/http/server.js';

/**
 * Through the real container and REST routes (in process, SQLite): stored rules (versions, list, read,
 * evaluate), guards `{ ref }` resolved through them and unknown references refused at publish, function
 * actions checked at publish, and internal events (a function completing) firing event transitions.
 */
const adminKey = 'cb-admin-rules-e2e-41a9';

describe('rules, publish checks and internal events (in process)', () => {
  let dataDir: string;
  let container: AppContainer;
  let app: FastifyInstance;
  const call = async (method: 'GET' | 'POST', url: string, body?: unknown, key: string | null = adminKey) => {
    const response = await app.inject({
      method,
      url,
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    return { status: response.statusCode, json: response.json<Record<string, any>>() }; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads
  };
  const net = (id: string, transitions: Record<string, unknown>[]) => ({
    id,
    name: id,
    places: [{ id: 'in' }, { id: 'out' }],
    transitions: transitions.map((transition, index) => ({ id: `t${index}`, inputs: ['in'], outputs: ['out'], ...transition })),
    start: 'in',
    end: 'out',
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cb-rules-e2e-'));
    container = await AppContainer.create(loadConfig({ CB_DATA_DIR: dataDir, CB_ADMIN_KEY: adminKey }, process.cwd()), {
      logger: silentLogger,
    });
    app = buildServer(container);
    await app.ready();
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    await container?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores versions, lists the latest, reads one with its versions, and evaluates with an explanation', async () => {
    expect((await call('POST', '/api/v1/rules', { name: 'review-ok', rule: 'token.data.score >= 4' }, null)).status).toBe(401);
    const first = await call('POST', '/api/v1/rules', { name: 'review-ok', rule: 'token.data.score >= 4', description: 'good reviews' });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ name: 'review-ok', version: 1, ref: 'review-ok@1', description: 'good reviews' });
    const second = await call('POST', '/api/v1/rules', { name: 'review-ok', rule: { field: 'token.data.score', op: 'gte', value: 5 } });
    expect(second.json).toMatchObject({ version: 2, rule: { op: 'gte', value: 5 } });
    const bad = await call('POST', '/api/v1/rules', { name: 'broken', rule: 'secret.x == 1' });
    expect(bad.status).toBe(400);
    expect(bad.json['error'].message).toContain('secret');
    expect((await call('POST', '/api/v1/rules', { name: 'a@2', rule: 'true' })).status).toBe(400);

    const list = await call('GET', '/api/v1/rules');
    expect(list.json['data'].map((rule: { ref: string }) => rule.ref)).toEqual(['review-ok@2']);
    const read = await call('GET', '/api/v1/rules/review-ok');
    expect(read.json).toMatchObject({ version: 2, versions: [{ version: 1 }, { version: 2 }] });
    const missing = await call('GET', '/api/v1/rules/review-okk');
    expect(missing.status).toBe(404);
    expect(missing.json['error'].message).toContain("did you mean 'review-ok'?");

    const data = { token: { data: { score: 4 } } };
    const latest = await call('POST', '/api/v1/rules/evaluate', { name: 'review-ok', data });
    expect(latest.json).toMatchObject({ ref: 'review-ok@2', passed: false });
    expect(latest.json['explanation']).toContain('saw 4');
    const pinned = await call('POST', '/api/v1/rules/evaluate', { ruleId: 'review-ok', version: 1, data }, 'not-admin');
    expect(pinned.status).toBe(401); // an unknown key is refused like on every /api route
    expect((await call('POST', '/api/v1/rules/evaluate', { ruleId: 'review-ok', version: 1, data })).json).toMatchObject({
      ref: 'review-ok@1',
      passed: true,
    });
    const inline = await call('POST', '/api/v1/rules/evaluate', {
      rule: 'amount > 10 && region == "eu"',
      data: { amount: 12, region: 'us' },
    });
    expect(inline.json).toMatchObject({ ref: null, passed: false });
    expect(inline.json['explanation']).toContain('"us"');
    expect((await call('POST', '/api/v1/rules/evaluate', { name: 'review-ok', version: 9, data })).status).toBe(404);
    expect((await call('POST', '/api/v1/rules/evaluate', { data })).status).toBe(400);
  });

  it('resolves { ref } guards through the stored rules and refuses unknown references at publish', async () => {
    await call('POST', '/api/v1/rules', { name: 'big-order', rule: 'token.data.amount > 100' });
    const unknown = await call(
      'POST',
      '/api/v1/workflows',
      net('wf-unknown-rule', [{ trigger: 'manual', guard: { ref: 'no-such-rule' } }]),
    );
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.json['analysis'].issues)).toContain("no rule named 'no-such-rule'");
    const badVersion = await call(
      'POST',
      '/api/v1/workflows',
      net('wf-bad-version', [{ trigger: 'manual', guard: { ref: 'big-order', version: 2 } }]),
    );
    expect(badVersion.status).toBe(422);

    const published = await call(
      'POST',
      '/api/v1/workflows',
      net('wf-guarded', [{ trigger: 'manual', guard: { ref: 'big-order', version: 1 } }]),
    );
    expect(published.status).toBe(201);
    const small = await call('POST', '/api/v1/workflows/wf-guarded/instances', { initialData: { amount: 5 } });
    const refused = await call('POST', `/api/v1/workflows/instances/${String(small.json['id'])}/fire`, { transitionId: 't0' });
    expect(refused.status).toBe(422);
    const big = await call('POST', '/api/v1/workflows/wf-guarded/instances', { initialData: { amount: 500 } });
    const fired = await call('POST', `/api/v1/workflows/instances/${String(big.json['id'])}/fire`, { transitionId: 't0' });
    expect(fired.status).toBe(200);
    expect(fired.json['status']).toBe('completed');
  });

  it('refuses function actions naming no registered function, and inline function specs', async () => {
    await call('POST', '/api/v1/functions', { name: 'notify', runtime: 'javascript', code: 'return { sent: true }' });
    const typo = await call('POST', '/api/v1/workflows', net('wf-typo', [{ trigger: 'automatic', action: { function: 'notifyy' } }]));
    expect(typo.status).toBe(422);
    expect(JSON.stringify(typo.json['analysis'].issues)).toContain("function 'notifyy' is not registered; did you mean 'notify'?");
    const inline = await call(
      'POST',
      '/api/v1/workflows',
      net('wf-inline', [{ trigger: 'automatic', action: { function: { name: 'x', code: '1' } } }]),
    );
    expect(inline.status).toBe(422);
    expect(JSON.stringify(inline.json['analysis'].issues)).toContain('POST /api/v1/functions');
    expect((await call('POST', '/api/v1/workflows', net('wf-known', [{ trigger: 'manual', action: { function: 'notify' } }]))).status).toBe(
      201,
    );
  });

  it('fires an event transition when a function completes (an internal event on the bus)', async () => {
    await call('POST', '/api/v1/functions', { name: 'approve', runtime: 'javascript', code: 'return { approved: input.ok }' });
    const filter = "event.data.functionName == 'approve' && event.data.success && event.data.output.approved == true";
    const published = await call(
      'POST',
      '/api/v1/workflows',
      net('wf-on-function', [{ trigger: { event: { type: 'FUNCTION_COMPLETED', filter } } }]),
    );
    expect(published.status).toBe(201);
    const instance = await call('POST', '/api/v1/workflows/wf-on-function/instances', { initialData: {} });
    expect(instance.json['status']).toBe('waiting');
    const id = String(instance.json['id']);

    // A completion the filter refuses leaves the instance waiting.
    await call('POST', '/api/v1/functions/approve/invoke', { input: { ok: false } });
    await container.workflows.eventTriggers.idle();
    expect((await call('GET', `/api/v1/workflows/instances/${id}`)).json['status']).toBe('waiting');

    await call('POST', '/api/v1/functions/approve/invoke', { input: { ok: true } });
    await container.workflows.eventTriggers.idle();
    const after = await call('GET', `/api/v1/workflows/instances/${id}`);
    expect(after.json['status']).toBe('completed');
  });
});
