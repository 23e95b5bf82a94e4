import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { MemoryEventBus } from '../streaming/memory-event-bus.js';
import { fakeClock, refusal } from '../../test/support/unit.js';
import { RuleService } from './rule-service.js';

let store: SqliteStore;
let events: MemoryEventBus;
const service = () => new RuleService({ repository: store.rules, events, clock: fakeClock(5000), logger: silentLogger });
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

beforeEach(async () => {
  store = await SqliteStore.open(':memory:');
  events = new MemoryEventBus();
});
afterEach(async () => {
  await events.close();
  await store.close();
});

describe('RuleService', () => {
  it('loads the stored versions into its registry at start, keeping version numbers', async () => {
    await store.rules.addVersion({ name: 'ok', rule: 'data.n > 1', description: null, createdAt: 1 });
    await store.rules.addVersion({ name: 'ok', rule: { field: 'data.n', op: 'gt', value: 2 }, description: 'v2', createdAt: 2 });
    const rules = service();
    expect(rules.registry.get('ok')).toBeUndefined();
    await rules.start();
    expect(rules.registry.get('ok')).toMatchObject({ ref: 'ok@2', description: 'v2' });
    expect(rules.registry.evaluate('ok@1', { data: { n: 2 } }).passed).toBe(true);
    expect(rules.registry.evaluate('ok', { data: { n: 2 } }).passed).toBe(false);
    rules.stop();
  });

  it('adds a created version at once, and one created by another replica when it is announced', async () => {
    const here = service();
    const there = service();
    await here.start();
    await there.start();
    const created = await there.create({ name: 'gate', rule: 'token.data.ok == true' });
    expect(created).toMatchObject({ name: 'gate', version: 1, createdAt: 5000 });
    expect(there.registry.get('gate@1')).toBeDefined();
    await settle();
    expect(here.registry.get('gate@1')).toBeDefined();
    here.stop();
    there.stop();
  });

  it('refuses rules that do not compile or bad names, and evaluates stored and inline rules with explanations', async () => {
    const rules = service();
    await rules.start();
    expect((await refusal(rules.create({ name: 'x', rule: 'nope.a == 1' }))).message).toContain('nope');
    expect((await refusal(rules.create({ name: 'x@1', rule: 'true' }))).status).toBe(400);
    expect((await refusal(rules.create({ name: 'x', rule: 42 }))).status).toBe(400);
    await rules.create({ name: 'score', rule: 'data.score >= 4' });
    const result = await rules.evaluate({ name: 'score', data: { data: { score: 3 } } });
    expect(result).toMatchObject({ ref: 'score@1', verdict: { passed: false } });
    expect(result.explanation).toContain('3');
    expect((await rules.evaluate({ rule: 'n > 1', data: { n: 2 } })).verdict.passed).toBe(true);
    expect((await refusal(rules.evaluate({ name: 'scor', data: {} }))).message).toContain("did you mean 'score'?");
    expect((await refusal(rules.get('nothing'))).status).toBe(404);
    expect((await rules.get('score')).versions).toHaveLength(1);
    rules.stop();
  });
});
