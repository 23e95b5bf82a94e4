import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { GatewayKeyRecord } from '../../src/storage/key-repository.js';
import type { Store } from '../../src/storage/store.js';
import type { UsageRecord } from '../../src/storage/usage-repository.js';

/**
 * The suite every storage backend passes (SQLite and PostgreSQL today). `open` gives a fresh, empty
 * store; `openSecond` a second connection to the same database (another replica), for concurrency.
 */
export function storeContract(name: string, open: () => Promise<Store>, openSecond: () => Promise<Store>): void {
  const withStore = async (body: (store: Store) => Promise<void>): Promise<void> => {
    const store = await open();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  };

  describe(`${name} store contract`, () => {
    it('answers ping and keeps discovered models', () =>
      withStore(async (store) => {
        await store.ping();
        expect(await store.modelCache.load('ollama')).toBeUndefined();
        const model = {
          id: 'llama3.2',
          capabilities: { tools: true, vision: false, jsonSchema: true, streaming: true, embeddings: false },
          pricing: {},
          source: 'discovered' as const,
        };
        await store.modelCache.save('ollama', [model], 1000);
        await store.modelCache.save('ollama', [model, { ...model, id: 'qwen' }], 2000);
        expect(await store.modelCache.load('ollama')).toEqual({ models: [model, { ...model, id: 'qwen' }], at: 2000 });
      }));

    it('stores gateway keys by hash, lists, revokes and counts active ones', () =>
      withStore(async (store) => {
        const key = gatewayKey({
          id: 'key_1',
          hash: 'a'.repeat(64),
          owner: { user: 'ana', project: 'web' },
          scopes: { models: ['gpt-4o'], rpm: 10 },
        });
        await store.gatewayKeys.insert(key);
        await store.gatewayKeys.insert(gatewayKey({ id: 'key_2', hash: 'b'.repeat(64), expiresAt: 500 }));
        expect(await store.gatewayKeys.findByHash('a'.repeat(64))).toEqual(key);
        expect(await store.gatewayKeys.findByHash('c'.repeat(64))).toBeUndefined();
        expect((await store.gatewayKeys.list()).map((entry) => entry.id)).toEqual(['key_1', 'key_2']);
        expect(await store.gatewayKeys.countActive(1000)).toBe(1);
        await expect(store.gatewayKeys.insert({ ...key, id: 'key_3' })).rejects.toThrow();
        expect(await store.gatewayKeys.revoke('key_1', 2000)).toBe(true);
        expect(await store.gatewayKeys.revoke('nope', 2000)).toBe(false);
        expect((await store.gatewayKeys.get('key_1'))?.revokedAt).toBe(2000);
        expect(await store.gatewayKeys.countActive(1000)).toBe(0);
        await store.gatewayKeys.touch(['key_2'], 3000);
        expect((await store.gatewayKeys.get('key_2'))?.lastUsedAt).toBe(3000);
      }));

    it('stores encrypted provider keys and replaces them all at once', () =>
      withStore(async (store) => {
        const record = {
          id: 'pk_1',
          provider: 'openai',
          label: 'ci',
          ciphertext: 'c1',
          iv: 'i1',
          tag: 't1',
          masterFingerprint: 'm1',
          fingerprint: 'f1',
          createdAt: 1,
        };
        await store.providerKeys.insert(record);
        await store.providerKeys.insert({ ...record, id: 'pk_2', provider: 'anthropic', createdAt: 2 });
        expect((await store.providerKeys.list('openai')).map((entry) => entry.id)).toEqual(['pk_1']);
        await store.providerKeys.replaceEncrypted([{ ...record, ciphertext: 'c2', iv: 'i2', tag: 't2', masterFingerprint: 'm2' }]);
        expect((await store.providerKeys.list('openai'))[0]).toMatchObject({ ciphertext: 'c2', masterFingerprint: 'm2' });
        expect(await store.providerKeys.delete('pk_2')).toBe(true);
        expect(await store.providerKeys.delete('pk_2')).toBe(false);
        expect(await store.providerKeys.list()).toHaveLength(1);
      }));

    it('appends a large usage batch (several statement sizes, one with duplicates) and keeps every field', () =>
      withStore(async (store) => {
        // 341 = 256 + 64 + 16 + 4 + 1: every compiled statement size once.
        const records = Array.from({ length: 341 }, (_, index) =>
          usageRecord({ id: `big${index}`, at: index, promptTokens: index, costUsd: index % 2 === 0 ? null : 0.25, tags: [`t${index}`] }),
        );
        await store.usage.insertBatch(records);
        await store.usage.insertBatch([...records.slice(100, 120), usageRecord({ id: 'big-extra', at: 341, stream: true, ttftMs: 12.5 })]);
        const all = { from: 0, to: 1_000 };
        expect(await store.usage.totals(all)).toMatchObject({
          requests: 342,
          promptTokens: (340 * 341) / 2 + 10,
          costUsd: 170 * 0.25 + 0.5,
        });
        const listed = await store.usage.list(all, 1000);
        expect(listed).toHaveLength(342);
        expect(listed.find((record) => record.id === 'big7')).toEqual(records[7]);
        expect(listed.find((record) => record.id === 'big-extra')).toMatchObject({ stream: true, ttftMs: 12.5, costUsd: 0.5 });
      }));

    it('appends usage idempotently and aggregates it by dimension, bucket and percentile', () =>
      withStore(async (store) => {
        const records = Array.from({ length: 10 }, (_, index) =>
          usageRecord({
            id: `u${index}`,
            at: 60_000 * index,
            provider: index % 2 === 0 ? 'openai' : 'anthropic',
            model: index % 2 === 0 ? 'gpt-4o' : 'claude',
            keyId: index < 3 ? 'key_1' : null,
            costUsd: index === 9 ? null : 0.5,
            latencyMs: (index + 1) * 10,
            status: index === 0 ? 'error' : 'ok',
          }),
        );
        await store.usage.insertBatch(records);
        await store.usage.insertBatch(records.slice(0, 4));
        const all = { from: 0, to: 10 * 60_000 };
        expect(await store.usage.totals(all)).toMatchObject({
          requests: 10,
          failed: 1,
          promptTokens: 100,
          completionTokens: 50,
          costUsd: 4.5,
        });
        expect(await store.usage.totals({ ...all, keyId: 'key_1' })).toMatchObject({ requests: 3, costUsd: 1.5 });
        expect(await store.usage.totals({ from: 0, to: 60_000 })).toMatchObject({ requests: 1 });
        const byProvider = await store.usage.groupBy(all, 'provider');
        expect(byProvider).toEqual([
          expect.objectContaining({ key: 'openai', requests: 5, costUsd: 2.5 }),
          expect.objectContaining({ key: 'anthropic', requests: 5, costUsd: 2 }),
        ]);
        expect((await store.usage.groupBy(all, 'workflow'))[0]).toMatchObject({ key: null, requests: 10 });
        const series = await store.usage.series(all, 120_000);
        expect(series.map((bucket) => [bucket.start, bucket.requests])).toEqual([
          [0, 2],
          [120_000, 2],
          [240_000, 2],
          [360_000, 2],
          [480_000, 2],
        ]);
        expect(await store.usage.latencyPercentiles(all, [0.5, 0.99])).toEqual([60, 100]);
        expect(await store.usage.latencyPercentiles({ from: 0, to: 1 }, [0.5])).toEqual([undefined]);
        const listed = await store.usage.list(all, 2);
        expect(listed.map((entry) => entry.id)).toEqual(['u9', 'u8']);
        expect(listed[0]).toEqual(records[9]);
      }));

    it('keeps budgets and reserves against them all-or-nothing, settling actual spend', () =>
      withStore(async (store) => {
        const budget = {
          id: 'b1',
          name: 'daily',
          scope: { type: 'global' as const, value: null },
          period: 'daily' as const,
          limitUsd: 1,
          alerts: [{ threshold: 0.8, action: 'send_notification' as const }],
          source: 'api' as const,
          createdAt: 1,
        };
        await store.budgets.upsert(budget);
        await store.budgets.upsert({ ...budget, id: 'b2', name: 'gpt-4o', scope: { type: 'model', value: 'gpt-4o' }, limitUsd: 10 });
        await store.budgets.upsert({ ...budget, limitUsd: 2 });
        expect((await store.budgets.list()).map((entry) => [entry.id, entry.limitUsd])).toEqual([
          ['b1', 2],
          ['b2', 10],
        ]);
        const both = [
          { budgetId: 'b1', periodStart: 0, limitUsd: 2 },
          { budgetId: 'b2', periodStart: 0, limitUsd: 10 },
        ];
        expect(await store.budgets.reserve('h1', both, 1.5, 100, 10_000)).toEqual({
          exceeded: undefined,
          usage: { b1: { spentUsd: 0, reservedUsd: 0 }, b2: { spentUsd: 0, reservedUsd: 0 } },
        });
        expect(await store.budgets.reserve('h2', both, 1, 100, 10_000)).toMatchObject({
          exceeded: 'b1',
          usage: { b1: { reservedUsd: 1.5 } },
        });
        expect(await store.budgets.usage('b2', 0, 100)).toEqual({ spentUsd: 0, reservedUsd: 1.5 });
        await store.budgets.settle(
          'h1',
          both.map(({ budgetId, periodStart }) => ({ budgetId, periodStart })),
          0.25,
        );
        expect(await store.budgets.usage('b1', 0, 100)).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
        expect((await store.budgets.reserve('h3', both, 1.75, 100, 200)).exceeded).toBeUndefined();
        // An expired hold no longer counts (a crashed request cannot hold budget forever).
        expect(await store.budgets.usage('b1', 0, 300)).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
        expect(await store.budgets.usage('b1', 86_400_000, 300)).toEqual({ spentUsd: 0, reservedUsd: 0 });
        expect(await store.budgets.markAlert('b1', 0, 0.8, 5)).toBe(true);
        expect(await store.budgets.markAlert('b1', 0, 0.8, 6)).toBe(false);
        expect(await store.budgets.delete('b2')).toBe(true);
        expect((await store.budgets.list()).map((entry) => entry.id)).toEqual(['b1']);
      }));

    it('never lets parallel reservations from two connections overspend a budget', async () => {
      const first = await open();
      const second = await openSecond();
      try {
        await first.budgets.upsert({
          id: 'race',
          name: 'race',
          scope: { type: 'global', value: null },
          period: 'daily',
          limitUsd: 1,
          alerts: [],
          source: 'api',
          createdAt: 1,
        });
        const budgets = [{ budgetId: 'race', periodStart: 0, limitUsd: 1 }];
        const outcomes = await Promise.all(
          Array.from({ length: 40 }, (_, index) =>
            (index % 2 === 0 ? first : second).budgets.reserve(`h${index}`, budgets, 0.1, 10, 100_000),
          ),
        );
        expect(outcomes.filter((outcome) => outcome.exceeded === undefined)).toHaveLength(10);
        expect(await first.budgets.usage('race', 0, 10)).toEqual({ spentUsd: 0, reservedUsd: expect.closeTo(1, 9) });
      } finally {
        await first.close();
        await second.close();
      }
    });
  });
}

function gatewayKey(overrides: Partial<GatewayKeyRecord>): GatewayKeyRecord {
  return {
    id: 'key',
    name: 'test key',
    hash: '0'.repeat(64),
    prefix: 'cb_abcd',
    owner: {},
    scopes: {},
    createdAt: 1,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...overrides,
  };
}

function usageRecord(overrides: Partial<UsageRecord>): UsageRecord {
  return {
    id: randomUUID(),
    at: 0,
    requestId: 'req_1',
    endpoint: 'chat',
    keyId: null,
    userId: null,
    teamId: null,
    projectId: null,
    workflowId: null,
    instanceId: null,
    transitionId: null,
    agentId: null,
    provider: 'openai',
    requestedModel: 'gpt-4o',
    model: 'gpt-4o',
    deployment: 'gpt-4o',
    promptTokens: 10,
    completionTokens: 5,
    cachedTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costUsd: 0.5,
    latencyMs: 10,
    ttftMs: null,
    status: 'ok',
    httpStatus: 200,
    errorCode: null,
    attempts: 1,
    stream: false,
    tags: ['a'],
    ...overrides,
  };
}
