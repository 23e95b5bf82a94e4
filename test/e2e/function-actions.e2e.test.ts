import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './support/backends.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Functions inside running instances, through the real server on each storage backend: a transition
 * whose action is a registered JavaScript function (its output lands in the output token), and a
 * function triggered by the instance's `token_created` event on the end place. Each runs once, and
 * each run is recorded once with what started it.
 */
for (const backend of await backends()) {
  describe(`function actions and triggers from an instance (${backend.name})`, () => {
    let gateway: GatewayProcess;
    const call = async (path: string, body?: unknown) => {
      const response = await fetch(`${gateway.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> & { data: Record<string, unknown>[] } };
    };

    beforeAll(async () => {
      gateway = await startGateway({ env: { ...backend.env(), CB_WORKFLOW_POLL_MS: '20' } });
    }, 60_000);
    afterAll(async () => {
      await gateway?.stop();
      await backend.cleanup();
    });

    it('runs the action function into the output token and the token_created trigger once each', async () => {
      expect(
        (
          await call('/api/v1/functions', {
            name: 'order_total',
            runtime: 'javascript',
            code: 'return { total: input.items.reduce((sum, item) => sum + item, 0) };',
            inputSchema: { type: 'object', required: ['items'] },
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await call('/api/v1/functions', {
            name: 'announce_total',
            runtime: 'javascript',
            code: 'return { announced: `order ${input.order} costs ${input.total}` };',
            triggers: [
              {
                on: 'token_created',
                workflowId: 'priced_orders',
                place: 'priced',
                input: { order: 'event.data.token.data.order', total: 'event.data.token.data.total' },
              },
            ],
          })
        ).status,
      ).toBe(201);
      const published = await call('/api/v1/workflows', {
        id: 'priced_orders',
        name: 'Priced orders',
        places: [{ id: 'received' }, { id: 'priced' }],
        transitions: [
          { id: 'price', inputs: ['received'], outputs: ['priced'], trigger: 'automatic', action: { function: 'order_total' } },
        ],
        start: 'received',
        end: 'priced',
      });
      expect(published.status).toBe(201);
      const started = await call('/api/v1/workflows/priced_orders/instances', { initialData: { order: 'A-7', items: [2, 3, 5] } });
      expect(started.status).toBe(201);
      const instanceId = started.json['id'] as string;

      let instance: Record<string, unknown> = {};
      for (let waited = 0; waited < 15_000; waited += 50) {
        instance = (await call(`/api/v1/workflows/instances/${instanceId}`)).json;
        if (instance['status'] !== 'running') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(instance['status']).toBe('completed');
      expect(instance['tokens']).toEqual([
        expect.objectContaining({ place: 'priced', data: { order: 'A-7', items: [2, 3, 5], total: 10 } }),
      ]);

      const actionRuns = (await call('/api/v1/functions/order_total/executions')).json.data;
      expect(actionRuns).toEqual([
        expect.objectContaining({
          status: 'completed',
          output: { total: 10 },
          instance_id: instanceId,
          workflow_id: 'priced_orders',
          trigger: { kind: 'action', detail: 'price' },
        }),
      ]);
      for (let waited = 0; waited < 10_000; waited += 50) {
        const runs = (await call('/api/v1/functions/announce_total/executions')).json.data;
        if (runs.some((run) => run['status'] === 'completed')) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Give a duplicate delivery time to show up before counting.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const triggered = (await call('/api/v1/functions/announce_total/executions')).json.data;
      expect(triggered).toEqual([
        expect.objectContaining({
          status: 'completed',
          input: { order: 'A-7', total: 10 },
          output: { announced: 'order A-7 costs 10' },
          trigger: expect.objectContaining({ kind: 'event' }),
        }),
      ]);
    }, 60_000);
  });
}
