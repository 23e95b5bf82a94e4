import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContainer } from '../../app/container.js';
import { breakdownNames } from '../../app/usage-reports.js';
import type { Breakdown } from '../../app/usage-reports.js';
import { invalidRequest } from '../../core/errors.js';
import { keyBudgetRecord } from '../../usage/budget-service.js';
import type { BudgetStatus } from '../../usage/budget-service.js';
import { isAdmin } from '../access-guard.js';
import { createBudgetSchema } from '../schemas/admin-schemas.js';
import { validateBody } from '../validate.js';

type Query = { timeframe?: string; from?: string; to?: string; breakdown?: string; granularity?: string; limit?: string };

/**
 * Spend and traffic: `GET /api/v1/costs` (the seed's cost analysis), `GET /api/v1/metrics` (the seed's
 * `getMetrics`), `GET /api/v1/usage` (ledger records), `GET /api/v1/key` (OpenRouter's key info), and
 * budgets (`GET /api/v1/budgets` with what is left; create/delete with the admin key). A gateway key
 * reads its own figures only; the admin key reads everything.
 */
export function registerUsage(app: FastifyInstance, container: AppContainer): void {
  const scope = (request: FastifyRequest) => {
    const { principal } = request.auth;
    return isAdmin(principal) ? {} : { keyId: principal.keyId ?? '' };
  };

  app.get<{ Querystring: Query }>('/api/v1/costs', async (request) => {
    const breakdown = parseBreakdown(request.query.breakdown);
    return container.reports.costs(request.query, breakdown, scope(request));
  });

  app.get<{ Querystring: Query }>('/api/v1/metrics', async (request) =>
    container.reports.metrics(request.query, request.query.granularity ?? 'minute', scope(request)),
  );

  app.get<{ Querystring: Query }>('/api/v1/usage', async (request) => {
    const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw invalidRequest('limit must be a whole number from 1 to 1000.', 'limit');
    return { data: await container.reports.records(request.query, limit, scope(request)) };
  });

  // OpenRouter's `GET /api/v1/key`: what the calling key may spend and has spent.
  app.get('/api/v1/key', async (request) => {
    const { principal, key } = request.auth;
    const usage = key
      ? await container.reports.costs({ timeframe: key.scopes.budget?.period === 'daily' ? 'today' : 'this_month' }, [], { keyId: key.id })
      : undefined;
    const spent = typeof usage?.['total_usd'] === 'number' ? usage['total_usd'] : 0;
    const limit = principal.budget?.limitUsd ?? null;
    return {
      data: {
        label: principal.name,
        id: principal.keyId,
        kind: principal.kind,
        usage: spent,
        limit,
        limit_remaining: limit === null ? null : Math.max(0, limit - spent),
        limit_period: principal.budget?.period ?? null,
        is_free_tier: false,
        rate_limit: {
          requests: principal.rpm ?? null,
          tokens: principal.tpm ?? null,
          concurrency: principal.concurrency ?? null,
          interval: '1m',
        },
        models: principal.models ?? null,
        expires_at: key?.expiresAt ? new Date(key.expiresAt).toISOString() : null,
      },
    };
  });

  app.get('/api/v1/budgets', async (request) => {
    const { principal } = request.auth;
    const own = principal.budget && principal.keyId !== null ? [keyBudgetRecord(principal.keyId, principal.name, principal.budget)] : [];
    const statuses = await container.budgets.status(own);
    const visible = isAdmin(principal)
      ? statuses
      : statuses.filter(
          ({ budget }) =>
            budget.scope.type === 'global' ||
            (budget.scope.type === 'key' && budget.scope.value === principal.keyId) ||
            (budget.scope.type === 'user' && budget.scope.value === principal.user) ||
            (budget.scope.type === 'team' && budget.scope.value === principal.team) ||
            (budget.scope.type === 'project' && budget.scope.value === principal.project) ||
            budget.scope.type === 'model' ||
            budget.scope.type === 'provider',
        );
    return { data: visible.map(budgetJson) };
  });

  app.post('/api/v1/budgets', { config: { access: 'admin' } }, async (request, reply) => {
    const input = validateBody(createBudgetSchema, request.body);
    const record = await container.budgets.create({
      name: input.name,
      scope: { type: input.scope?.type ?? 'global', value: input.scope?.value ?? null },
      period: input.period ?? 'monthly',
      limitUsd: input.limit_usd,
      alerts: input.alerts ?? [],
    });
    const [status] = (await container.budgets.status()).filter(({ budget }) => budget.id === record.id);
    reply.code(201);
    return status ? budgetJson(status) : record;
  });

  app.delete<{ Params: { id: string } }>('/api/v1/budgets/:id', { config: { access: 'admin' } }, async (request, reply) => {
    if (!(await container.budgets.remove(request.params.id))) {
      reply.code(404);
      return { error: { message: `There is no budget '${request.params.id}'.`, type: 'not_found_error', param: null, code: 'not_found' } };
    }
    reply.code(204);
    return undefined;
  });
}

function parseBreakdown(text: string | undefined): Breakdown[] {
  if (text === undefined || text === '') return ['provider', 'model'];
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.find((name) => !(breakdownNames as readonly string[]).includes(name));
  if (unknown !== undefined) throw invalidRequest(`Unknown breakdown '${unknown}'; use any of ${breakdownNames.join(', ')}.`, 'breakdown');
  return [...new Set(names)] as Breakdown[];
}

function budgetJson(status: BudgetStatus) {
  const { budget } = status;
  return {
    id: budget.id,
    name: budget.name,
    scope: budget.scope,
    period: budget.period,
    limit_usd: budget.limitUsd,
    spent_usd: status.spentUsd,
    reserved_usd: status.reservedUsd,
    remaining_usd: status.remainingUsd,
    used: Number(status.used.toFixed(6)),
    alerts: budget.alerts,
    source: budget.source,
    period_start: new Date(status.periodStart).toISOString(),
    resets_at: new Date(status.resetsAt).toISOString(),
  };
}
