import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { UsageRecord } from '../storage/usage-repository.js';
import { SpendTracker } from './spend-tracker.js';

/** 15 June 2025, 15:00 UTC. */
const afternoon = Date.UTC(2025, 5, 15, 15);
const midnight = Date.UTC(2025, 5, 16);

function fakeClock(at = afternoon) {
  const state = { now: at };
  return { now: () => state.now, set: (ms: number) => (state.now = ms) };
}

let sequence = 0;
function usageRecord(at: number, costUsd: number | null, keyId: string | null, model: string | null): UsageRecord {
  const id = `rec_${++sequence}`;
  return {
    id,
    at,
    requestId: `req_${id}`,
    endpoint: 'chat',
    keyId,
    userId: null,
    teamId: null,
    projectId: null,
    workflowId: null,
    instanceId: null,
    transitionId: null,
    agentId: null,
    provider: 'openai',
    requestedModel: model ?? 'unknown',
    model,
    deployment: model,
    promptTokens: 100,
    completionTokens: 10,
    cachedTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costUsd,
    latencyMs: 300,
    ttftMs: null,
    status: 'ok',
    httpStatus: 200,
    errorCode: null,
    attempts: 1,
    stream: false,
    tags: [],
  };
}

let directory: string;
let store: SqliteStore;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'cb-spend-'));
  store = await SqliteStore.open(join(directory, 'gateway.db'));
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('SpendTracker', () => {
  it("seeds today's totals, per key and per model, from the usage ledger", async () => {
    const today = Date.UTC(2025, 5, 15);
    await store.usage.insertBatch([
      usageRecord(today - 1, 50, 'key_a', 'gpt-4'), // yesterday's last millisecond
      usageRecord(today, 1.25, 'key_a', 'gpt-4'), // today's first
      usageRecord(today + 3_600_000, 0.75, 'key_a', 'gpt-4o'),
      usageRecord(today + 7_200_000, 2, 'key_b', 'gpt-4'),
      usageRecord(today + 7_200_000, 0.5, null, null),
      usageRecord(today + 7_200_000, null, 'key_b', 'mystery'), // unknown price
      usageRecord(afternoon, 0.1, 'key_c', 'gpt-4o'), // exactly now
      usageRecord(afternoon + 1, 99, 'key_c', 'gpt-4o'), // in the future
    ]);
    const tracker = new SpendTracker(fakeClock());
    await tracker.seed(store.usage);
    const spent = tracker.today();
    expect(spent.total).toBeCloseTo(4.6, 9);
    expect(spent.key('key_a')).toBeCloseTo(2, 9);
    expect(spent.key('key_b')).toBeCloseTo(2, 9);
    expect(spent.key('key_c')).toBeCloseTo(0.1, 9);
    expect(spent.key('key_unknown')).toBe(0);
    expect(spent.key(null)).toBe(0);
    expect(spent.model('gpt-4')).toBeCloseTo(3.25, 9);
    expect(spent.model('gpt-4o')).toBeCloseTo(0.85, 9);
    expect(spent.model('mystery')).toBe(0);
    expect(spent.model('claude-3-opus')).toBe(0);
  });

  it('seeds zeros from an empty ledger', async () => {
    const tracker = new SpendTracker(fakeClock());
    await tracker.seed(store.usage);
    expect(tracker.today().total).toBe(0);
  });

  it('adds each finished request to the total, its key and its model', async () => {
    await store.usage.insertBatch([usageRecord(afternoon - 1_000, 1, 'key_a', 'gpt-4')]);
    const tracker = new SpendTracker(fakeClock());
    await tracker.seed(store.usage);
    tracker.add(0.5, 'key_a', 'gpt-4');
    tracker.add(0.25, 'key_b', 'gpt-4o');
    tracker.add(0.125, null, null);
    const spent = tracker.today();
    expect(spent.total).toBeCloseTo(1.875, 12);
    expect(spent.key('key_a')).toBeCloseTo(1.5, 12);
    expect(spent.key('key_b')).toBeCloseTo(0.25, 12);
    expect(spent.model('gpt-4')).toBeCloseTo(1.5, 12);
    expect(spent.model('gpt-4o')).toBeCloseTo(0.25, 12);
  });

  it('ignores free and negative amounts', () => {
    const tracker = new SpendTracker(fakeClock());
    tracker.add(0, 'key_a', 'llama3.2');
    tracker.add(-3, 'key_a', 'gpt-4');
    expect(tracker.today().total).toBe(0);
    expect(tracker.today().key('key_a')).toBe(0);
    expect(tracker.today().model('gpt-4')).toBe(0);
  });

  it('works without a seed', () => {
    const tracker = new SpendTracker(fakeClock());
    tracker.add(2, 'key_a', 'gpt-4');
    expect(tracker.today().total).toBe(2);
  });

  it('starts again from zero at UTC midnight', async () => {
    await store.usage.insertBatch([usageRecord(afternoon - 1_000, 10, 'key_a', 'gpt-4')]);
    const clock = fakeClock();
    const tracker = new SpendTracker(clock);
    await tracker.seed(store.usage);
    tracker.add(1, 'key_a', 'gpt-4');
    clock.set(midnight - 1);
    expect(tracker.today().total).toBeCloseTo(11, 12);
    clock.set(midnight);
    const tomorrow = tracker.today();
    expect(tomorrow.total).toBe(0);
    expect(tomorrow.key('key_a')).toBe(0);
    expect(tomorrow.model('gpt-4')).toBe(0);
  });

  it('books an amount added after midnight in the new day only', () => {
    const clock = fakeClock(midnight - 10);
    const tracker = new SpendTracker(clock);
    tracker.add(5, 'key_a', 'gpt-4');
    clock.set(midnight + 10);
    tracker.add(1, 'key_a', 'gpt-4');
    expect(tracker.today()).toMatchObject({ total: 1 });
    expect(tracker.today().key('key_a')).toBe(1);
    clock.set(midnight + 86_400_000);
    expect(tracker.today().total).toBe(0);
  });
});
