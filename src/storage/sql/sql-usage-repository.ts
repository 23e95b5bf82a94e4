import { sql } from 'kysely';
import type { ExpressionBuilder, Kysely, SelectQueryBuilder } from 'kysely';
import type { Logger } from '../../core/logger.js';
import type {
  UsageBucket,
  UsageDimension,
  UsageFilter,
  UsageGroup,
  UsageJournalWriter,
  UsageRecord,
  UsageRepository,
  UsageTotals,
} from '../usage-repository.js';
import type { SqlSchema } from './sql-schema.js';
import { CompiledBatchInsert } from './compiled-batch-insert.js';

const dimensionColumn = {
  provider: 'provider',
  model: 'model',
  key: 'key_id',
  user: 'user_id',
  team: 'team_id',
  project: 'project_id',
  workflow: 'workflow_id',
  status: 'status',
} as const satisfies Record<UsageDimension, keyof SqlSchema['usage_records']>;

type UsageQuery = SelectQueryBuilder<SqlSchema, 'usage_records', object>;

/** The usage ledger's table over Kysely (SQLite or PostgreSQL). */
export class SqlUsageRepository implements UsageRepository {
  private readonly inserter: CompiledBatchInsert<SqlSchema['usage_records']>;

  constructor(
    private readonly db: Kysely<SqlSchema>,
    private readonly journalWriter?: (logger: Logger) => UsageJournalWriter,
  ) {
    this.inserter = new CompiledBatchInsert(db, 'usage_records', 'id');
  }

  openJournalWriter(logger: Logger): UsageJournalWriter | undefined {
    return this.journalWriter?.(logger);
  }

  /** One transaction, with statements compiled once per size (the ledger's flush is the hot caller). */
  async insertBatch(records: readonly UsageRecord[]): Promise<void> {
    await this.inserter.insert(records.map(toRow));
  }

  async totals(filter: UsageFilter): Promise<UsageTotals> {
    const row = await aggregates(this.filtered(filter)).executeTakeFirst();
    return toTotals(row);
  }

  async groupBy(filter: UsageFilter, dimension: UsageDimension): Promise<UsageGroup[]> {
    const column = dimensionColumn[dimension];
    const rows = await aggregates(this.filtered(filter))
      .select(sql<string | null>`${sql.ref(column)}`.as('group_key'))
      .groupBy(column)
      .execute();
    return rows.map((row) => ({ key: row.group_key, ...toTotals(row) })).sort((a, b) => b.costUsd - a.costUsd || b.requests - a.requests);
  }

  async series(filter: UsageFilter, bucketMs: number): Promise<UsageBucket[]> {
    const bucket = sql<number>`(at / ${sql.lit(Math.max(1, Math.floor(bucketMs)))}) * ${sql.lit(Math.max(1, Math.floor(bucketMs)))}`;
    const rows = await aggregates(this.filtered(filter)).select(bucket.as('bucket')).groupBy(bucket).orderBy(bucket).execute();
    return rows.map((row) => ({ start: Number(row.bucket), ...toTotals(row) }));
  }

  async latencyPercentiles(filter: UsageFilter, quantiles: readonly number[]): Promise<(number | undefined)[]> {
    const ok = this.filtered(filter).where('status', '=', 'ok');
    const count = Number((await ok.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
    if (count === 0) return quantiles.map(() => undefined);
    const results: (number | undefined)[] = [];
    for (const quantile of quantiles) {
      const offset = Math.min(count - 1, Math.max(0, Math.ceil(quantile * count) - 1));
      const row = await ok.select('latency_ms').orderBy('latency_ms').limit(1).offset(offset).executeTakeFirst();
      results.push(row === undefined ? undefined : Number(row.latency_ms));
    }
    return results;
  }

  async list(filter: UsageFilter, limit: number): Promise<UsageRecord[]> {
    const rows = await this.filtered(filter).selectAll().orderBy('at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map(fromRow);
  }

  private filtered(filter: UsageFilter): UsageQuery {
    let query: UsageQuery = this.db.selectFrom('usage_records').where('at', '>=', filter.from).where('at', '<', filter.to);
    if (filter.keyId !== undefined) query = query.where('key_id', '=', filter.keyId);
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
    return query;
  }
}

function aggregates(query: UsageQuery) {
  return query.select((eb: ExpressionBuilder<SqlSchema, 'usage_records'>) => [
    eb.fn.countAll<number>().as('requests'),
    eb.fn.sum<number>(eb.case().when('status', '!=', 'ok').then(1).else(0).end()).as('failed'),
    eb.fn.sum<number>('prompt_tokens').as('prompt_tokens'),
    eb.fn.sum<number>('completion_tokens').as('completion_tokens'),
    eb.fn.sum<number>('cost_usd').as('cost_usd'),
    eb.fn.sum<number>('latency_ms').as('latency_ms_sum'),
  ]);
}

interface AggregateRow {
  requests: number | string | null;
  failed: number | string | null;
  prompt_tokens: number | string | null;
  completion_tokens: number | string | null;
  cost_usd: number | string | null;
  latency_ms_sum: number | string | null;
}

function toTotals(row: AggregateRow | undefined): UsageTotals {
  return {
    requests: Number(row?.requests ?? 0),
    failed: Number(row?.failed ?? 0),
    promptTokens: Number(row?.prompt_tokens ?? 0),
    completionTokens: Number(row?.completion_tokens ?? 0),
    costUsd: Number(row?.cost_usd ?? 0),
    latencyMsSum: Number(row?.latency_ms_sum ?? 0),
  };
}

/**
 * A record as its `usage_records` row. Self-contained on purpose (no outside names, no nested
 * functions): the SQLite writer thread runs this very function, from its source text
 * (`sqlite/journal-writer-source.ts`), so the two insert paths cannot map columns differently.
 */
export function toRow(record: UsageRecord): SqlSchema['usage_records'] {
  return {
    id: record.id,
    at: record.at,
    request_id: record.requestId,
    endpoint: record.endpoint,
    key_id: record.keyId,
    user_id: record.userId,
    team_id: record.teamId,
    project_id: record.projectId,
    workflow_id: record.workflowId,
    instance_id: record.instanceId,
    transition_id: record.transitionId,
    agent_id: record.agentId,
    provider: record.provider,
    requested_model: record.requestedModel,
    model: record.model,
    deployment: record.deployment,
    prompt_tokens: record.promptTokens,
    completion_tokens: record.completionTokens,
    cached_tokens: record.cachedTokens,
    cache_write_tokens: record.cacheWriteTokens,
    reasoning_tokens: record.reasoningTokens,
    cost_usd: record.costUsd,
    latency_ms: record.latencyMs,
    ttft_ms: record.ttftMs,
    status: record.status,
    http_status: record.httpStatus,
    error_code: record.errorCode,
    attempts: record.attempts,
    stream: record.stream ? 1 : 0,
    tags: JSON.stringify(record.tags),
  };
}

function fromRow(row: SqlSchema['usage_records']): UsageRecord {
  return {
    id: row.id,
    at: Number(row.at),
    requestId: row.request_id,
    endpoint: row.endpoint,
    keyId: row.key_id,
    userId: row.user_id,
    teamId: row.team_id,
    projectId: row.project_id,
    workflowId: row.workflow_id,
    instanceId: row.instance_id,
    transitionId: row.transition_id,
    agentId: row.agent_id,
    provider: row.provider,
    requestedModel: row.requested_model,
    model: row.model,
    deployment: row.deployment,
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    cachedTokens: Number(row.cached_tokens),
    cacheWriteTokens: Number(row.cache_write_tokens),
    reasoningTokens: Number(row.reasoning_tokens),
    costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
    latencyMs: Number(row.latency_ms),
    ttftMs: row.ttft_ms === null ? null : Number(row.ttft_ms),
    status: row.status as UsageRecord['status'],
    httpStatus: Number(row.http_status),
    errorCode: row.error_code,
    attempts: Number(row.attempts),
    stream: Number(row.stream) === 1,
    tags: JSON.parse(row.tags) as string[],
  };
}
