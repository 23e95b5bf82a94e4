import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BudgetDefinition, UsageConfig } from '../config/gateway-config.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { anonymousPrincipal } from '../core/principal.js';
import type { Principal } from '../core/principal.js';
import type { BudgetRecord } from '../storage/budget-repository.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { periodEnd, periodStart } from './budget-periods.js';
import { BudgetService, keyBudgetRecord } from './budget-service.js';
import type { BudgetCandidate, BudgetNotifier } from './budget-service.js';
import { fakeClock as sharedFakeClock, refusal } from '../../test/support/unit.js';

const hour = 3_600_000;
/** Sunday 15 June 2025, 12:00 UTC. */
const noon = Date.UTC(2025, 5, 15, 12);

const fakeClock = (at = noon) => sharedFakeClock(at);

function usageConfig(budgets: BudgetDefinition[] = [], overrides: Partial<UsageConfig> = {}): UsageConfig {
  return { budgets, expensiveOutputPrice: 10, rateLimits: {}, costRules: [], notifications: {}, environment: undefined, ...overrides };
}

function global(name: string, limitUsd: number, overrides: Partial<BudgetDefinition> = {}): BudgetDefinition {
  return { name, scope: { type: 'global', value: null }, period: 'daily', limitUsd, alerts: [], ...overrides };
}

function candidate(
  provider: string,
  model: string,
  worstCaseUsd: number | undefined,
  outputPrice: number | undefined = 1,
): BudgetCandidate {
  return { provider, model, worstCaseUsd, outputPrice };
}

function principal(overrides: Partial<Principal> = {}): Principal {
  return { ...anonymousPrincipal, kind: 'key', keyId: 'key_aaaaaaaaaaaaaaaa', name: 'ci', ...overrides };
}

const gpt4 = candidate('openai', 'gpt-4', 1, 60);
const claude = candidate('anthropic', 'claude-3-opus', 1, 75);
const mini = candidate('openai', 'gpt-4o-mini', 0.01, 0.6);
const local = candidate('ollama', 'llama3.2', 0, 0);

/** Lets fire-and-forget work (alert checks, notifications) finish; no timers involved. */
async function drain(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

let directory: string;
let store: SqliteStore;
let clock: ReturnType<typeof fakeClock>;
let notified: Parameters<BudgetNotifier>[0][];
let notify: BudgetNotifier;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'cb-budgets-'));
  store = await SqliteStore.open(join(directory, 'gateway.db'));
  clock = fakeClock();
  notified = [];
  notify = vi.fn(async (event: Parameters<BudgetNotifier>[0]) => void notified.push(event));
});

afterEach(async () => {
  await drain();
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

async function service(budgets: BudgetDefinition[] = [], overrides: Partial<UsageConfig> = {}): Promise<BudgetService> {
  const created = new BudgetService(store.budgets, usageConfig(budgets, overrides), clock, silentLogger, notify);
  await created.init();
  return created;
}

/** Spends `usd` through the service, on `where`. */
async function spend(budgets: BudgetService, usd: number, where: BudgetCandidate = mini, who: Principal = principal()) {
  const reservation = await budgets.reserve(who, undefined, [{ ...where, worstCaseUsd: usd }]);
  await reservation.settle(where, usd);
}

async function statusOf(budgets: BudgetService, name: string, keyBudgets: BudgetRecord[] = []) {
  const found = (await budgets.status(keyBudgets)).find((entry) => entry.budget.name === name);
  if (!found) throw new Error(`no budget '${name}'`);
  return found;
}

describe('BudgetService reserve and settle', () => {
  it('holds the worst case while the request runs, then books the actual cost and drops the hold', async () => {
    const budgets = await service([global('daily', 10)]);
    const reservation = await budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 4 }]);
    expect(reservation.excluded.size).toBe(0);
    expect(reservation.preferCheaper).toBe(false);
    expect(reservation.warnings).toEqual([]);
    expect(await statusOf(budgets, 'daily')).toMatchObject({ spentUsd: 0, reservedUsd: 4, remainingUsd: 6, used: 0.4 });

    await reservation.settle({ provider: 'openai', model: 'gpt-4' }, 1.5);
    expect(await statusOf(budgets, 'daily')).toMatchObject({
      periodStart: Date.UTC(2025, 5, 15),
      resetsAt: Date.UTC(2025, 5, 16),
      spentUsd: 1.5,
      reservedUsd: 0,
      remainingUsd: 8.5,
      used: 0.15,
    });
  });

  it('holds the dearest candidate, so a fallback cannot overspend', async () => {
    const budgets = await service([global('daily', 10)]);
    await budgets.reserve(principal(), undefined, [
      { ...mini, worstCaseUsd: 0.5 },
      { ...gpt4, worstCaseUsd: 3 },
    ]);
    expect((await statusOf(budgets, 'daily')).reservedUsd).toBe(3);
  });

  it('counts holds of requests in flight, so parallel requests cannot overshoot', async () => {
    const budgets = await service([global('daily', 10)]);
    await budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 6 }]);
    const error = await refusal(budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 6 }]));
    expect(error.code).toBe(ErrorCode.budgetExhausted);
    expect(error.message).toContain('$6.00 held by requests in flight');
  });

  it('lets a hold expire after 30 minutes when its request never settles', async () => {
    const budgets = await service([global('daily', 10)]);
    await budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 6 }]);
    clock.advance(30 * 60_000 - 1);
    await expect(budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 6 }])).rejects.toThrow(GatewayError);
    clock.advance(2);
    await expect(budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 6 }])).resolves.toBeDefined();
  });

  it('a request that went nowhere drops its hold and books nothing', async () => {
    const budgets = await service([global('daily', 10)]);
    const reservation = await budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 6 }]);
    await reservation.settle(undefined, 0);
    expect(await statusOf(budgets, 'daily')).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
  });

  it('with no budget covering the request holds nothing and warns about nothing', async () => {
    const budgets = await service([]);
    const reservation = await budgets.reserve(principal(), undefined, [gpt4, candidate('x', 'y', undefined)]);
    expect(reservation.warnings).toEqual([]);
    await reservation.settle({ provider: 'openai', model: 'gpt-4' }, 0.2);
  });
});

describe('BudgetService exhausted budgets', () => {
  it('an exhausted global budget answers 402 budget_exhausted naming the budget and when it resets', async () => {
    const budgets = await service([global('daily', 10)]);
    await spend(budgets, 10);
    const error = await refusal(budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 0.5 }]));
    expect(error.code).toBe(ErrorCode.budgetExhausted);
    expect(error.status).toBe(402);
    expect(error.message).toContain("Budget 'daily' (daily, all requests) is exhausted");
    expect(error.message).toContain('$10.00 spent');
    expect(error.message).toContain('of $10.00');
    expect(error.message).toContain('could cost up to $0.50');
    expect(error.message).toContain('It resets at 2025-06-16T00:00:00.000Z');
    expect(error.headers).toEqual({ 'x-cb-budget': 'daily', 'x-cb-budget-reset': '2025-06-16T00:00:00.000Z' });
    expect(error.retryAfterMs).toBe(12 * hour);
  });

  it('refuses a request whose worst case alone is over what is left', async () => {
    const budgets = await service([global('daily', 10)]);
    await spend(budgets, 9);
    await expect(budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 1.01 }])).rejects.toThrow(/Budget 'daily'/);
    await expect(budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 1 }])).resolves.toBeDefined();
  });

  it('a spent daily budget is back at the next UTC midnight', async () => {
    const budgets = await service([global('daily', 10)]);
    await spend(budgets, 10);
    clock.set(Date.UTC(2025, 5, 16) - 1);
    await expect(budgets.reserve(principal(), undefined, [gpt4])).rejects.toThrow(GatewayError);
    clock.set(Date.UTC(2025, 5, 16));
    await expect(budgets.reserve(principal(), undefined, [gpt4])).resolves.toBeDefined();
  });

  it('a spent monthly budget resets on the first of the next month, across the year end', async () => {
    clock.set(Date.UTC(2024, 11, 31, 22));
    const budgets = await service([global('monthly', 10, { period: 'monthly' })]);
    await spend(budgets, 10);
    const error = await refusal(budgets.reserve(principal(), undefined, [gpt4]));
    expect(error.headers['x-cb-budget-reset']).toBe('2025-01-01T00:00:00.000Z');
    expect(error.retryAfterMs).toBe(2 * hour);
    expect(error.message).toContain('(monthly, all requests)');
    clock.set(Date.UTC(2025, 0, 1));
    await expect(budgets.reserve(principal(), undefined, [gpt4])).resolves.toBeDefined();
  });

  it('an exhausted model budget takes that model out of the route while other candidates remain', async () => {
    const budgets = await service([{ ...global('model:gpt-4', 5), scope: { type: 'model', value: 'gpt-4' } }]);
    await spend(budgets, 5, gpt4);
    const reservation = await budgets.reserve(principal(), undefined, [gpt4, claude]);
    expect([...reservation.excluded]).toEqual([['openai/gpt-4', "budget 'model:gpt-4' is exhausted"]]);
    await reservation.settle({ provider: 'anthropic', model: 'claude-3-opus' }, 0.8);
    expect((await statusOf(budgets, 'model:gpt-4')).spentUsd).toBe(5); // claude's cost is not gpt-4's

    const error = await refusal(budgets.reserve(principal(), undefined, [gpt4]));
    expect(error.message).toContain("Budget 'model:gpt-4' (daily, model gpt-4) is exhausted");
    expect(error.headers['x-cb-budget']).toBe('model:gpt-4');
  });

  it('a model budget written provider/model covers only that provider', async () => {
    const budgets = await service([{ ...global('azure-gpt-4', 1), scope: { type: 'model', value: 'azure/gpt-4' } }]);
    await spend(budgets, 1, candidate('azure', 'gpt-4', 1));
    const reservation = await budgets.reserve(principal(), undefined, [candidate('azure', 'gpt-4', 1), gpt4]);
    expect([...reservation.excluded.keys()]).toEqual(['azure/gpt-4']);
  });

  it('a provider budget covers every model of that provider', async () => {
    const budgets = await service([{ ...global('openai', 2), scope: { type: 'provider', value: 'openai' } }]);
    await spend(budgets, 2, mini);
    const reservation = await budgets.reserve(principal(), undefined, [gpt4, mini, claude]);
    expect([...reservation.excluded.keys()].sort()).toEqual(['openai/gpt-4', 'openai/gpt-4o-mini']);
  });

  it('free candidates (worst case $0) are never blocked, even by a spent global budget', async () => {
    const budgets = await service([global('daily', 10)]);
    await spend(budgets, 10);
    const onlyFree = await budgets.reserve(principal(), undefined, [local]);
    expect(onlyFree.excluded.size).toBe(0);
    const mixed = await budgets.reserve(principal(), undefined, [gpt4, local]);
    expect([...mixed.excluded]).toEqual([['openai/gpt-4', "budget 'daily' is exhausted"]]);
    await mixed.settle({ provider: 'ollama', model: 'llama3.2' }, 0);
    expect(await statusOf(budgets, 'daily')).toMatchObject({ spentUsd: 10, reservedUsd: 0 });
  });

  it('a candidate of unknown price holds nothing and says so', async () => {
    const budgets = await service([global('daily', 10)]);
    const unknown = candidate('vllm', 'mystery', undefined, undefined);
    const reservation = await budgets.reserve(principal(), undefined, [unknown, unknown]);
    expect(reservation.warnings).toHaveLength(1);
    expect(reservation.warnings[0]).toContain('the price of a candidate model is unknown');
    expect((await statusOf(budgets, 'daily')).reservedUsd).toBeLessThan(1e-6);
    await reservation.settle({ provider: 'vllm', model: 'mystery' }, 0);
    expect(await statusOf(budgets, 'daily')).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
  });

  it('a candidate of unknown price is refused like the others once a budget covering it is spent', async () => {
    const budgets = await service([global('daily', 10)]);
    await spend(budgets, 10);
    const unknown = candidate('vllm', 'mystery', undefined, undefined);
    await expect(budgets.reserve(principal(), undefined, [unknown])).rejects.toThrow(/Budget 'daily'/);
    const mixed = await budgets.reserve(principal(), undefined, [unknown, local]);
    expect([...mixed.excluded.keys()]).toEqual(['vllm/mystery']);
  });
});

describe('BudgetService scopes', () => {
  it("enforces a key's own budget given as keyBudgetRecord, for that key only", async () => {
    const budgets = await service([]);
    const keyBudget = keyBudgetRecord('key_aaaaaaaaaaaaaaaa', 'ci', { limitUsd: 2, period: 'monthly' });
    expect(keyBudget).toMatchObject({
      id: 'key:key_aaaaaaaaaaaaaaaa',
      name: 'key ci',
      scope: { type: 'key', value: 'key_aaaaaaaaaaaaaaaa' },
    });
    const reservation = await budgets.reserve(principal(), keyBudget, [{ ...gpt4, worstCaseUsd: 2 }]);
    await reservation.settle({ provider: 'openai', model: 'gpt-4' }, 2);

    const error = await refusal(budgets.reserve(principal(), keyBudget, [gpt4]));
    expect(error.message).toContain("Budget 'key ci' (monthly, key key_aaaaaaaaaaaaaaaa) is exhausted");
    expect(error.headers).toEqual({ 'x-cb-budget': 'key ci', 'x-cb-budget-reset': '2025-07-01T00:00:00.000Z' });
    // Another key is not covered by it, even if the record is passed along.
    await expect(budgets.reserve(principal({ keyId: 'key_bbbbbbbbbbbbbbbb' }), keyBudget, [gpt4])).resolves.toBeDefined();
    expect(await statusOf(budgets, 'key ci', [keyBudget])).toMatchObject({ spentUsd: 2, remainingUsd: 0, used: 1 });
  });

  it.each([
    ['user', 'alice', 'bob'],
    ['team', 'red', 'blue'],
    ['project', 'apollo', 'gemini'],
  ] as const)('a %s budget for %s covers only that one, not %s', async (type, value, otherValue) => {
    const covered: Partial<Principal> = { [type]: value };
    const other: Partial<Principal> = { [type]: otherValue };
    const budgets = await service([{ ...global(`${type}-budget`, 1), scope: { type, value } }]);
    const error = await refusal(budgets.reserve(principal(covered), undefined, [{ ...gpt4, worstCaseUsd: 2 }]));
    expect(error.message).toContain(`Budget '${type}-budget' (daily, ${type} ${value})`);
    await expect(budgets.reserve(principal(other), undefined, [{ ...gpt4, worstCaseUsd: 2 }])).resolves.toBeDefined();
    await expect(budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 2 }])).resolves.toBeDefined();
    expect(budgets.hasBudgets(principal(covered), undefined)).toBe(true);
    expect(budgets.hasBudgets(principal(other), undefined)).toBe(false);
  });

  it('a key budget defined through the API covers only that key', async () => {
    const budgets = await service([]);
    await budgets.create({ ...global('ci-key', 1), scope: { type: 'key', value: 'key_aaaaaaaaaaaaaaaa' } });
    await expect(budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 2 }])).rejects.toThrow(/ci-key/);
    await expect(
      budgets.reserve(principal({ keyId: null, kind: 'admin' }), undefined, [{ ...gpt4, worstCaseUsd: 2 }]),
    ).resolves.toBeDefined();
  });

  it('hasBudgets: a global or model budget applies to everyone, a key budget record to its key', async () => {
    const none = await service([]);
    expect(none.hasBudgets(principal(), undefined)).toBe(false);
    expect(none.hasBudgets(principal(), keyBudgetRecord('key_x', 'x', { limitUsd: 1, period: 'daily' }))).toBe(true);
    const some = await service([{ ...global('m', 1), scope: { type: 'model', value: 'gpt-4' } }]);
    expect(some.hasBudgets(anonymousPrincipal, undefined)).toBe(true);
  });
});

describe('BudgetService alerts', () => {
  const notifyAt = (threshold: number) => [{ threshold, action: 'send_notification' as const }];

  it('send_notification fires once per budget, threshold and period, however many requests follow', async () => {
    const budgets = await service([global('daily', 10, { alerts: notifyAt(0.5) })]);
    await spend(budgets, 4);
    await drain();
    expect(notify).not.toHaveBeenCalled();
    await spend(budgets, 2); // 6 of 10: past 50 %
    for (let request = 0; request < 5; request++) await spend(budgets, 0.1);
    await drain();
    expect(notify).toHaveBeenCalledTimes(1);
    expect(notified[0]).toMatchObject({ budget: { name: 'daily' }, threshold: 0.5, spentUsd: 6, resetsAt: Date.UTC(2025, 5, 16) });
  });

  it('fires when a request finds a threshold crossed by spend booked elsewhere (another replica)', async () => {
    const budgets = await service([global('daily', 10, { alerts: notifyAt(0.8) })]);
    const [daily] = await budgets.list();
    await store.budgets.settle('elsewhere', [{ budgetId: daily?.id ?? '', periodStart: Date.UTC(2025, 5, 15) }], 8.5);
    await budgets.reserve(principal(), undefined, [mini]);
    await budgets.reserve(principal(), undefined, [mini]);
    await drain();
    expect(notify).toHaveBeenCalledTimes(1);
    expect(notified[0]).toMatchObject({ threshold: 0.8, spentUsd: 8.5 });
  });

  it('fires again in the next period, and once for each threshold', async () => {
    const budgets = await service([global('daily', 10, { alerts: [...notifyAt(0.5), ...notifyAt(0.9)] })]);
    await spend(budgets, 9.5);
    await drain();
    expect(notified.map((event) => event.threshold).sort()).toEqual([0.5, 0.9]);
    clock.set(Date.UTC(2025, 5, 16, 1));
    await spend(budgets, 6);
    await drain();
    expect(notified.map((event) => event.threshold).sort()).toEqual([0.5, 0.5, 0.9]);
    expect(notified[2]?.resetsAt).toBe(Date.UTC(2025, 5, 17));
  });

  it('a failing notifier does not fail the request', async () => {
    notify = vi.fn(async () => {
      throw new Error('webhook down');
    });
    const budgets = await service([global('daily', 10, { alerts: notifyAt(0.1) })]);
    await spend(budgets, 5);
    await expect(budgets.reserve(principal(), undefined, [mini])).resolves.toBeDefined();
    await drain();
    expect(notify).toHaveBeenCalledTimes(1);
  });

  it('switch_to_cheaper_models past its threshold asks to prefer cheaper models', async () => {
    const budgets = await service([global('daily', 10, { alerts: [{ threshold: 0.8, action: 'switch_to_cheaper_models' }] })]);
    await spend(budgets, 7.9);
    const before = await budgets.reserve(principal(), undefined, [gpt4, mini]);
    expect(before.preferCheaper).toBe(false);
    await before.settle(undefined, 0);
    await spend(budgets, 0.6);
    const reservation = await budgets.reserve(principal(), undefined, [gpt4, mini]);
    expect(reservation.preferCheaper).toBe(true);
    expect(reservation.warnings).toContain("switching to cheaper models: budget 'daily' is past 80 %");
    expect(reservation.excluded.size).toBe(0);
  });

  it('pause_expensive_operations past its threshold excludes candidates at or above the expensive output price', async () => {
    const budgets = await service([global('daily', 10, { alerts: [{ threshold: 0.5, action: 'pause_expensive_operations' }] })]);
    const atThePrice = candidate('openai', 'o-edge', 0.1, 10);
    const unpricedOutput = candidate('vllm', 'qwen', 0.1, undefined);
    const before = await budgets.reserve(principal(), undefined, [gpt4, atThePrice, mini]);
    expect(before.excluded.size).toBe(0);
    await before.settle(undefined, 0);
    await spend(budgets, 5);
    const reservation = await budgets.reserve(principal(), undefined, [gpt4, atThePrice, mini, unpricedOutput, local]);
    expect(new Map(reservation.excluded)).toEqual(
      new Map([
        ['openai/gpt-4', "paused as expensive: budget 'daily' is past 50 %"],
        ['openai/o-edge', "paused as expensive: budget 'daily' is past 50 %"],
      ]),
    );
    expect(reservation.preferCheaper).toBe(false);
  });

  it('pause_expensive_operations follows config.expensiveOutputPrice and the budget scope', async () => {
    const budgets = await service(
      [
        {
          ...global('gpt-4 only', 10),
          scope: { type: 'model', value: 'gpt-4' },
          alerts: [{ threshold: 0.5, action: 'pause_expensive_operations' }],
        },
      ],
      { expensiveOutputPrice: 70 },
    );
    await spend(budgets, 6, gpt4);
    const pricey = candidate('openai', 'gpt-4', 1, 70);
    expect([...(await budgets.reserve(principal(), undefined, [pricey, claude])).excluded.keys()]).toEqual(['openai/gpt-4']);
    // gpt-4 at $60 is under the $70 line; claude at $75 is over it but not covered by this budget.
    expect((await budgets.reserve(principal(), undefined, [gpt4, claude])).excluded.size).toBe(0);
  });
});

describe('BudgetService definitions', () => {
  it('init() stores the config budgets, replacing those the file no longer has and keeping API budgets', async () => {
    const first = await service([global('daily', 10), global('old', 5)]);
    await first.create(global('from-api', 3));
    expect((await first.list()).map((budget) => [budget.name, budget.source, budget.limitUsd])).toEqual([
      ['daily', 'config', 10],
      ['from-api', 'api', 3],
      ['old', 'config', 5],
    ]);

    const second = await service([global('daily', 20), { ...global('monthly', 100), period: 'monthly' }]);
    expect((await second.list()).map((budget) => [budget.name, budget.source, budget.limitUsd, budget.period])).toEqual([
      ['daily', 'config', 20, 'daily'],
      ['from-api', 'api', 3, 'daily'],
      ['monthly', 'config', 100, 'monthly'],
    ]);
    expect((await store.budgets.list()).map((budget) => budget.name)).not.toContain('old');
  });

  it('keeps the id of a config budget across restarts, so its spend survives them', async () => {
    const first = await service([global('daily', 10)]);
    await spend(first, 4);
    const second = await service([global('daily', 12)]);
    expect(await statusOf(second, 'daily')).toMatchObject({ spentUsd: 4, remainingUsd: 8 });
  });

  it('create() refuses a name defined in the config file with a 409', async () => {
    const budgets = await service([global('daily', 10)]);
    const error = await refusal(budgets.create(global('daily', 1_000)));
    expect(error.status).toBe(409);
    expect(error.param).toBe('name');
    expect(error.message).toContain("Budget 'daily' is defined in the config file");
    expect((await statusOf(budgets, 'daily')).budget.limitUsd).toBe(10);
  });

  it('create() stores an API budget that is enforced at once, and replaces one of the same name', async () => {
    const budgets = await service([]);
    const created = await budgets.create({ ...global('team-red', 1), scope: { type: 'team', value: 'red' } });
    expect(created).toMatchObject({ name: 'team-red', source: 'api', createdAt: noon, scope: { type: 'team', value: 'red' } });
    expect(created.id).toMatch(/^budget_[0-9a-f]{16}$/);
    await expect(budgets.reserve(principal({ team: 'red' }), undefined, [{ ...gpt4, worstCaseUsd: 2 }])).rejects.toThrow(/team-red/);
    const replaced = await budgets.create({ ...global('team-red', 5), scope: { type: 'team', value: 'red' } });
    expect(replaced.id).toBe(created.id);
    await expect(budgets.reserve(principal({ team: 'red' }), undefined, [{ ...gpt4, worstCaseUsd: 2 }])).resolves.toBeDefined();
  });

  it('remove() deletes API budgets by id or name and refuses config ones', async () => {
    const budgets = await service([global('daily', 10)]);
    const created = await budgets.create(global('extra', 1));
    await budgets.create(global('other', 1));
    expect(await budgets.remove(created.id)).toBe(true);
    expect(await budgets.remove('other')).toBe(true);
    expect(await budgets.remove('nothing-by-that-name')).toBe(false);
    expect((await refusal(budgets.remove('daily'))).status).toBe(409);
    expect((await budgets.list()).map((budget) => budget.name)).toEqual(['daily']);
  });

  it('picks up budgets another replica defined within 10 s', async () => {
    const budgets = await service([]);
    const elsewhere = await service([]); // another replica, same store
    await elsewhere.create(global('shared', 1));
    await expect(budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 2 }])).resolves.toBeDefined();
    clock.advance(10_001);
    await expect(budgets.reserve(principal(), undefined, [{ ...gpt4, worstCaseUsd: 2 }])).rejects.toThrow(/shared/);
  });
});

describe('budget periods (UTC)', () => {
  it.each([
    ['mid-day', '2025-06-15T12:34:56.789Z', '2025-06-15T00:00:00.000Z', '2025-06-16T00:00:00.000Z'],
    ['midnight itself', '2025-06-15T00:00:00.000Z', '2025-06-15T00:00:00.000Z', '2025-06-16T00:00:00.000Z'],
    ['last millisecond', '2025-06-15T23:59:59.999Z', '2025-06-15T00:00:00.000Z', '2025-06-16T00:00:00.000Z'],
    ['month end', '2025-01-31T18:00:00.000Z', '2025-01-31T00:00:00.000Z', '2025-02-01T00:00:00.000Z'],
    ['year end', '2024-12-31T23:59:59.999Z', '2024-12-31T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    ['leap day', '2024-02-29T06:00:00.000Z', '2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
  ])('daily, %s', (_label, at, start, end) => {
    const now = Date.parse(at);
    expect(new Date(periodStart('daily', now)).toISOString()).toBe(start);
    expect(new Date(periodEnd('daily', now)).toISOString()).toBe(end);
  });

  it.each([
    ['mid-month', '2025-06-15T12:00:00.000Z', '2025-06-01T00:00:00.000Z', '2025-07-01T00:00:00.000Z'],
    ['first instant', '2025-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z', '2025-07-01T00:00:00.000Z'],
    ['last instant', '2025-06-30T23:59:59.999Z', '2025-06-01T00:00:00.000Z', '2025-07-01T00:00:00.000Z'],
    ['December', '2024-12-31T23:59:59.999Z', '2024-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    ['January 31', '2025-01-31T12:00:00.000Z', '2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z'],
    ['leap February', '2024-02-29T23:00:00.000Z', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
  ])('monthly, %s', (_label, at, start, end) => {
    const now = Date.parse(at);
    expect(new Date(periodStart('monthly', now)).toISOString()).toBe(start);
    expect(new Date(periodEnd('monthly', now)).toISOString()).toBe(end);
  });

  it('does not depend on the local time zone', () => {
    const saved = process.env['TZ'];
    try {
      process.env['TZ'] = 'Pacific/Kiritimati'; // UTC+14: already the next day locally
      const now = Date.parse('2025-06-30T20:00:00.000Z');
      expect(new Date(periodStart('daily', now)).toISOString()).toBe('2025-06-30T00:00:00.000Z');
      expect(new Date(periodEnd('monthly', now)).toISOString()).toBe('2025-07-01T00:00:00.000Z');
    } finally {
      if (saved === undefined) delete process.env['TZ'];
      else process.env['TZ'] = saved;
    }
  });
});
