import type { Breakdown } from '../../app/usage-reports.js';
import { createBudgetSchema } from '../../http/schemas/admin-schemas.js';
import { validateBody } from '../../http/validate.js';
import { ErrorCode, GatewayError } from '../../core/errors.js';
import { keyBudgetRecord } from '../../usage/budget-service.js';
import type { BudgetStatus } from '../../usage/budget-service.js';
import { isAdmin, requireAdmin } from '../graphql-context.js';
import type { GraphQLContext } from '../graphql-context.js';
import { paginate } from '../pagination.js';

type Page = { first?: number | null; after?: string | null };

/** What a caller may read: everything for the admin key, its own key's figures for a gateway key (as on REST). */
function scope(context: GraphQLContext): { keyId?: string } {
  const { principal } = context.auth;
  return isAdmin(principal) ? {} : { keyId: principal.keyId ?? '' };
}

/** `costAnalysis`: `GET /api/v1/costs`, with typed breakdowns beside the REST body (`raw`). */
export async function costAnalysis(
  args: { timeframe?: string | null; from?: string | null; to?: string | null; breakdown?: string[] | null },
  context: GraphQLContext,
) {
  const breakdown = [...new Set((args.breakdown ?? ['PROVIDER', 'MODEL']).map((name) => name.toLowerCase()))] as Breakdown[];
  const window = {
    ...(args.timeframe ? { timeframe: args.timeframe } : {}),
    ...(args.from ? { from: args.from } : {}),
    ...(args.to ? { to: args.to } : {}),
  };
  const report = await context.container.reports.costs(window, breakdown, scope(context));
  const tokens = report['tokens'] as { prompt: number; completion: number };
  const projections = report['projections'] as { monthly: string; monthly_usd: number; trend: string };
  return {
    timeframe: report['timeframe'],
    from: report['from'],
    to: report['to'],
    total: report['total'],
    totalUsd: report['total_usd'],
    requests: report['requests'],
    failedRequests: report['failed_requests'],
    promptTokens: tokens.prompt,
    completionTokens: tokens.completion,
    breakdowns: breakdown.map((name) => ({
      dimension: name.toUpperCase(),
      groups: (report[`${name}_details`] as Record<string, unknown>[]).map((group) => ({
        key: group['key'],
        costUsd: group['cost_usd'],
        requests: group['requests'],
        failed: group['failed'],
        promptTokens: group['prompt_tokens'],
        completionTokens: group['completion_tokens'],
      })),
    })),
    projections: { monthly: projections.monthly, monthlyUsd: projections.monthly_usd, trend: projections.trend },
    raw: report,
  };
}

/** `metrics`: `GET /api/v1/metrics`; the time series is a paginated list. */
export async function metrics(args: { timeframe?: string | null; granularity?: string | null }, context: GraphQLContext) {
  const granularity = (args.granularity ?? 'MINUTE').toLowerCase();
  const report = await context.container.reports.metrics(args.timeframe ? { timeframe: args.timeframe } : {}, granularity, scope(context));
  return {
    ...report,
    granularity: granularity.toUpperCase(),
    providers: Object.entries(report.providers).map(([provider, figures]) => ({
      provider,
      requests: figures.requests,
      errors: figures.errors,
      avgLatency: figures.avg_latency,
    })),
    costs: { total: report.costs.total, totalUsd: report.costs.total_usd, rate: report.costs.rate },
    series: (page: Page) =>
      paginate(
        report.series.map((bucket) => ({
          start: bucket.start,
          requests: bucket.requests,
          failed: bucket.failed,
          costUsd: bucket.cost_usd,
          avgLatencyMs: bucket.avg_latency_ms,
        })),
        page,
      ),
  };
}

async function visibleBudgets(context: GraphQLContext): Promise<BudgetStatus[]> {
  const { principal } = context.auth;
  const own = principal.budget && principal.keyId !== null ? [keyBudgetRecord(principal.keyId, principal.name, principal.budget)] : [];
  const statuses = await context.container.budgets.status(own);
  if (isAdmin(principal)) return statuses;
  return statuses.filter(({ budget }) => {
    const { type, value } = budget.scope;
    if (type === 'global' || type === 'model' || type === 'provider') return true;
    if (type === 'key') return value === principal.keyId;
    if (type === 'user') return value === principal.user;
    if (type === 'team') return value === principal.team;
    return value === principal.project;
  });
}

/** `budgets`: as `GET /api/v1/budgets` (a gateway key sees the budgets that cover it). */
export async function budgets(args: Page, context: GraphQLContext) {
  return paginate((await visibleBudgets(context)).map(budgetOf), args);
}

/** `budgetStatus(id)`: one visible budget by id or name; without an id, the caller's key budget (null when it has none). */
export async function budgetStatus(args: { id?: string | null }, context: GraphQLContext) {
  const visible = await visibleBudgets(context);
  if (!args.id) {
    const keyId = context.auth.principal.keyId;
    const own = visible.find(({ budget }) => budget.scope.type === 'key' && budget.scope.value === keyId);
    return own ? budgetOf(own) : null;
  }
  const found = visible.find(({ budget }) => budget.id === args.id || budget.name === args.id);
  if (!found)
    throw new GatewayError(ErrorCode.notFound, `There is no budget '${args.id}' (list them with the budgets query).`, {
      status: 404,
      param: 'id',
    });
  return budgetOf(found);
}

interface BudgetInput {
  name: string;
  limitUsd: number;
  period?: string | null;
  scope?: { type: string; value?: string | null } | null;
  alerts?: { threshold: number; action: string }[] | null;
}

/** `setBudget`: `POST /api/v1/budgets` (admin key), validated by the same schema. */
export async function setBudget(args: { input: BudgetInput }, context: GraphQLContext) {
  requireAdmin(context, 'setBudget');
  const { input } = args;
  const body = validateBody(createBudgetSchema, {
    name: input.name,
    limit_usd: input.limitUsd,
    ...(input.period ? { period: input.period.toLowerCase() } : {}),
    ...(input.scope ? { scope: { type: input.scope.type.toLowerCase(), ...(input.scope.value ? { value: input.scope.value } : {}) } } : {}),
    ...(input.alerts ? { alerts: input.alerts.map((alert) => ({ threshold: alert.threshold, action: alert.action.toLowerCase() })) } : {}),
  });
  const record = await context.container.budgets.create({
    name: body.name,
    scope: { type: body.scope?.type ?? 'global', value: body.scope?.value ?? null },
    period: body.period ?? 'monthly',
    limitUsd: body.limit_usd,
    alerts: body.alerts ?? [],
  });
  const status = (await context.container.budgets.status()).find(({ budget }) => budget.id === record.id);
  if (!status) throw new GatewayError(ErrorCode.internal, 'The budget was stored but cannot be read back.', { status: 500 });
  return budgetOf(status);
}

function budgetOf(status: BudgetStatus) {
  const { budget } = status;
  const warnAt = Math.min(1, ...budget.alerts.map((alert) => alert.threshold));
  return {
    id: budget.id,
    name: budget.name,
    scope: { type: budget.scope.type.toUpperCase(), value: budget.scope.value },
    period: budget.period.toUpperCase(),
    limitUsd: budget.limitUsd,
    spentUsd: status.spentUsd,
    reservedUsd: status.reservedUsd,
    remainingUsd: status.remainingUsd,
    used: Number(status.used.toFixed(6)),
    isWarning: status.used >= (budget.alerts.length > 0 ? warnAt : 0.8),
    isExhausted: status.remainingUsd <= 0,
    alerts: budget.alerts.map((alert) => ({ threshold: alert.threshold, action: alert.action.toUpperCase() })),
    source: budget.source,
    periodStart: new Date(status.periodStart).toISOString(),
    resetsAt: new Date(status.resetsAt).toISOString(),
  };
}
