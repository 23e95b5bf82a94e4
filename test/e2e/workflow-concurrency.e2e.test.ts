import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './support/backends.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Two server processes on one database fire the same manual transition of the same instance at the
 * same time: exactly one wins, the other gets a 409 that says why; the instance moves once.
 */
const entry = resolve(import.meta.dirname, 'support/workflow-server.ts');
const rounds = 6;

const approval = {
  id: 'approval',
  name: 'Approval',
  places: [{ id: 'pending' }, { id: 'approved' }],
  transitions: [{ id: 'approve', inputs: ['pending'], outputs: ['approved'], trigger: 'manual' }],
  start: 'pending',
  end: 'approved',
};

for (const backend of await backends()) {
  describe(`two servers firing the same transition (${backend.name})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cb-concurrency-'));
    const actions = mkdtempSync(join(tmpdir(), 'cb-concurrency-actions-'));
    const env = { ...backend.env(), CB_TEST_ACTIONS_DIR: actions };
    let first: GatewayProcess;
    let second: GatewayProcess;
    beforeAll(async () => {
      first = await startGateway({ entry, env, dataDir });
      second = await startGateway({ entry, env, dataDir });
    }, 60_000);
    afterAll(async () => {
      await Promise.all([first?.stop(), second?.stop()]);
      await backend.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(actions, { recursive: true, force: true });
    });
    const post = async (gateway: GatewayProcess, path: string, body: unknown) => {
      const response = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      return {
        status: response.status,
        json: (await response.json()) as Record<string, unknown> & { error?: { code: string; message: string } },
      };
    };

    it('lets exactly one firing win, with or without expectedRevision', async () => {
      expect((await post(first, '/api/v1/workflows', approval)).status).toBe(201);
      for (let round = 0; round < rounds; round++) {
        const started = await post(round % 2 === 0 ? first : second, '/api/v1/workflows/approval/instances', {});
        const id = started.json['id'] as string;
        const revision = started.json['revision'] as number;
        const body =
          round < rounds / 2
            ? { transitionId: 'approve', expectedRevision: revision, data: { round } }
            : { transitionId: 'approve', data: { round } };
        const results = await Promise.all([
          post(first, `/api/v1/workflows/instances/${id}/fire`, body),
          post(second, `/api/v1/workflows/instances/${id}/fire`, body),
        ]);
        const statuses = results.map((result) => result.status).sort();
        expect(statuses).toEqual([200, 409]);
        const loser = results.find((result) => result.status === 409)!;
        expect(['revision_conflict', 'transition_not_enabled']).toContain(loser.json.error?.code);
        expect(loser.json.error?.message).toMatch(/revision|holds 0 token|is completed/);
        const response = await fetch(`${second.url}/api/v1/workflows/instances/${id}`);
        const instance = (await response.json()) as { status: string; revision: number; tokens: unknown[] };
        expect(instance).toMatchObject({ status: 'completed', revision: revision + 1 });
        expect(instance.tokens).toHaveLength(1);
        const history = (await (await fetch(`${first.url}/api/v1/workflows/instances/${id}/history`)).json()) as {
          data: { type: string }[];
        };
        expect(history.data.filter((event) => event.type === 'WORKFLOW_TRANSITION')).toHaveLength(1);
      }
    }, 120_000);
  });
}
