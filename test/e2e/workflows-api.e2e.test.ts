import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './support/backends.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

const entry = resolve(import.meta.dirname, 'support/workflow-server.ts');

/** A document pipeline: a function extracts, a person approves (guarded), with a parallel check. */
const pipeline = {
  id: 'doc-review',
  name: 'Document review',
  places: [{ id: 'received' }, { id: 'extracted' }, { id: 'checked' }, { id: 'ready' }, { id: 'approved' }],
  transitions: [
    { id: 'extract', inputs: ['received'], outputs: ['extracted', 'checked'], action: { function: { name: 'extract', delayMs: 50 } } },
    { id: 'merge', inputs: ['extracted', 'checked'], outputs: ['ready'] },
    {
      id: 'approve',
      inputs: ['ready'],
      outputs: ['approved'],
      trigger: 'manual',
      guard: "data.extract == 'done' && input.approved == true",
    },
  ],
  start: 'received',
  end: 'approved',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field in assertions
type Json = any;

interface SseEvent {
  id: string | undefined;
  event: string;
  data: { sequence?: number; type: string };
}

/** Reads SSE frames until `stop` says so or the server ends the stream. */
async function readEvents(url: string, headers: Record<string, string>, stop: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const response = await fetch(url, { headers });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let split = buffer.indexOf('\n\n');
    while (split !== -1) {
      const frame = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      const fields = Object.fromEntries(
        frame
          .split('\n')
          .filter((line) => !line.startsWith(':'))
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
      );
      if (fields['data'] !== undefined)
        events.push({ id: fields['id'], event: fields['event'] ?? 'message', data: JSON.parse(fields['data']) });
      split = buffer.indexOf('\n\n');
    }
    if (stop(events)) {
      await reader.cancel();
      break;
    }
  }
  return events;
}

for (const backend of await backends()) {
  describe(`workflow REST API (${backend.name})`, () => {
    let gateway: GatewayProcess;
    let actions: string;
    const call = async (path: string, init: { method?: string; body?: unknown } = {}) => {
      const response = await fetch(`${gateway.url}${path}`, {
        method: init.method ?? 'GET',
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: response.status, json: (await response.json()) as Record<string, Json> };
    };

    beforeAll(async () => {
      actions = mkdtempSync(join(tmpdir(), 'cb-actions-'));
      gateway = await startGateway({ entry, env: { ...backend.env(), CB_TEST_ACTIONS_DIR: actions, CB_WORKFLOW_POLL_MS: '50' } });
    }, 60_000);
    afterAll(async () => {
      await gateway?.stop();
      await backend.cleanup();
      rmSync(actions, { recursive: true, force: true });
    });

    it('refuses a definition with analysis errors, with the report', async () => {
      const refused = await call('/api/v1/workflows', {
        method: 'POST',
        body: { ...pipeline, id: 'broken', transitions: [{ id: 'a', inputs: ['received', 'nowhere'], outputs: ['approved'] }] },
      });
      expect(refused.status).toBe(422);
      expect(refused.json['error']).toMatchObject({ code: 'workflow_invalid' });
      expect(refused.json['analysis'].issues[0]).toMatchObject({ code: 'unknown_place', path: 'transitions[0].inputs[1].place' });
      const choice = [
        { id: 'left', inputs: ['received'], outputs: ['extracted'] },
        { id: 'right', inputs: ['received'], outputs: ['checked'] },
        { id: 'approve', inputs: ['extracted', 'checked'], outputs: ['approved'] },
      ];
      const deadlock = await call('/api/v1/workflows', {
        method: 'POST',
        body: { ...pipeline, id: 'stuck', places: pipeline.places.filter((place) => place.id !== 'ready'), transitions: choice },
      });
      expect(deadlock.status).toBe(422);
      expect(
        deadlock.json['analysis'].issues
          .filter((issue: { code: string }) => issue.code === 'deadlock')
          .map((issue: { sequence: string[] }) => issue.sequence),
      ).toEqual([['left'], ['right']]);
      const checked = await call('/api/v1/workflows/check', { method: 'POST', body: pipeline });
      expect(checked.json).toMatchObject({ ok: true, reachability: { complete: true } });
      const bad = await call('/api/v1/workflows', { method: 'POST', body: [] });
      expect(bad.status).toBe(400);
    });

    it('publishes, versions, runs an instance with an action, streams its events and resumes with Last-Event-ID', async () => {
      const created = await call('/api/v1/workflows', { method: 'POST', body: pipeline });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ id: 'doc-review', version: 1, analysis: { ok: true, soundness: { sound: true } } });
      expect((await call('/api/v1/workflows', { method: 'POST', body: pipeline })).status).toBe(409);
      const v2 = await call('/api/v1/workflows/doc-review', { method: 'PUT', body: { ...pipeline, description: 'v2' } });
      expect(v2.json).toMatchObject({ version: 2 });
      expect((await call('/api/v1/workflows/doc-review?version=1')).json).toMatchObject({ version: 1 });
      expect((await call('/api/v1/workflows')).json['data'].map((entry: { id: string }) => entry.id)).toContain('doc-review');

      const started = await call('/api/v1/workflows/doc-review/instances', {
        method: 'POST',
        body: { initialData: { doc: 'a.pdf' }, metadata: { source: 'e2e' } },
      });
      expect(started.status).toBe(201);
      expect(started.json).toMatchObject({
        workflowId: 'doc-review',
        version: 2,
        status: 'running',
        streamUrl: `/api/v1/workflows/instances/${started.json['id']}/events`,
      });
      const id = started.json['id'] as string;
      const live = await readEvents(`${gateway.url}${started.json['streamUrl']}`, {}, (events) =>
        events.some((event) => event.event === 'STATUS_CHANGED' && (event.data as { data?: { to?: string } }).data?.to === 'waiting'),
      );
      const ids = live.filter((event) => event.id !== undefined).map((event) => Number(event.id));
      expect(ids).toEqual(ids.map((_, index) => index + 1));
      expect(live.map((event) => event.event)).toEqual(
        expect.arrayContaining(['INSTANCE_CREATED', 'ACTION_STARTED', 'ACTION_COMPLETED', 'WORKFLOW_TRANSITION', 'TOKEN_CREATED']),
      );

      const waiting = await call(`/api/v1/workflows/instances/${id}`);
      expect(waiting.json).toMatchObject({ status: 'waiting', currentPlace: 'ready', marking: { ready: 1 } });
      const transitions = await call(`/api/v1/workflows/instances/${id}/transitions`);
      const approve = transitions.json['data'].find((entry: { id: string }) => entry.id === 'approve');
      expect(approve).toMatchObject({ enabled: true, trigger: 'manual', available: false, guard: { passed: false } });
      expect(approve.guard.explanation).toContain('input.approved');

      const stale = await call(`/api/v1/workflows/instances/${id}/fire`, {
        method: 'POST',
        body: { transitionId: 'approve', data: { approved: true }, expectedRevision: waiting.json['revision'] - 1 },
      });
      expect(stale.status).toBe(409);
      expect(stale.json['error']).toMatchObject({ code: 'revision_conflict', param: 'expectedRevision' });
      expect(stale.json['error'].message).toContain(`revision ${waiting.json['revision']}`);
      const refused = await call(`/api/v1/workflows/instances/${id}/fire`, {
        method: 'POST',
        body: { transitionId: 'approve', data: { approved: false }, expectedRevision: waiting.json['revision'] },
      });
      expect(refused.status).toBe(422);
      expect(refused.json['error'].code).toBe('guard_failed');
      expect((await call(`/api/v1/workflows/instances/${id}/fire`, { method: 'POST', body: { data: {} } })).status).toBe(400);
      const fired = await call(`/api/v1/workflows/instances/${id}/fire`, {
        method: 'POST',
        body: { transitionId: 'approve', data: { approved: true }, expectedRevision: waiting.json['revision'] },
      });
      expect(fired.status).toBe(200);
      expect(fired.json).toMatchObject({ status: 'completed', currentPlace: 'approved' });
      expect(fired.json['tokens'][0].data).toMatchObject({ doc: 'a.pdf', extract: 'done', approved: true, steps: 1 });

      const resumeAfter = ids[2]!;
      const resumed = await readEvents(
        `${gateway.url}/api/v1/workflows/instances/${id}/events`,
        { 'last-event-id': String(resumeAfter) },
        () => false,
      );
      const resumedIds = resumed.map((event) => Number(event.id));
      expect(resumedIds[0]).toBe(resumeAfter + 1);
      expect(resumed.at(-1)?.event).toBe('COMPLETION');
      expect(resumed.map((event) => event.event)).toContain('COMPLETION');
      const history = await call(`/api/v1/workflows/instances/${id}/history`);
      expect(history.json['data'].map((event: { sequence: number }) => event.sequence).slice(resumeAfter)).toEqual(resumedIds);
    });

    it('cancels, and answers unknown instances and bad queries clearly', async () => {
      const manual = {
        ...pipeline,
        id: 'manual-only',
        transitions: [{ id: 'approve', inputs: ['received'], outputs: ['approved'], trigger: 'manual' }],
        places: [{ id: 'received' }, { id: 'approved' }],
      };
      expect((await call('/api/v1/workflows', { method: 'POST', body: manual })).status).toBe(201);
      const started = await call('/api/v1/workflows/manual-only/instances', { method: 'POST', body: {} });
      expect(started.json['status']).toBe('waiting');
      const cancelled = await call(`/api/v1/workflows/instances/${started.json['id']}/cancel`, {
        method: 'POST',
        body: { reason: 'duplicate' },
      });
      expect(cancelled.json).toMatchObject({ status: 'cancelled', error: { code: 'cancelled', message: 'duplicate' } });
      const late = await call(`/api/v1/workflows/instances/${started.json['id']}/fire`, {
        method: 'POST',
        body: { transitionId: 'approve' },
      });
      expect(late.status).toBe(409);
      expect((await call('/api/v1/workflows/instances/wi_nope')).status).toBe(404);
      expect((await call('/api/v1/workflows/nope/instances', { method: 'POST', body: {} })).status).toBe(404);
      expect((await call(`/api/v1/workflows/instances/${started.json['id']}/history?after=x`)).status).toBe(400);
    });
  });
}
