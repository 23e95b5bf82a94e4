import type { Kysely, Selectable } from 'kysely';
import type { ExecutionQuery, FunctionExecutionRecord, FunctionRepository, StoredFunction } from '../function-repository.js';
import type { ExecutionStatus } from '../function-repository.js';
import type { SqlSchema } from './sql-schema.js';

type ExecutionRow = Selectable<SqlSchema['function_executions']>;

/** Function definitions and executions over Kysely (SQLite or PostgreSQL); JSON fields as text. */
export class SqlFunctionRepository implements FunctionRepository {
  constructor(private readonly db: Kysely<SqlSchema>) {}

  async saveDefinition(stored: StoredFunction): Promise<void> {
    const row = {
      name: stored.name,
      version: stored.version,
      definition: JSON.stringify(stored.definition),
      created_at: stored.createdAt,
      updated_at: stored.updatedAt,
    };
    await this.db
      .insertInto('function_definitions')
      .values(row)
      .onConflict((conflict) =>
        conflict.column('name').doUpdateSet({ version: row.version, definition: row.definition, updated_at: row.updated_at }),
      )
      .execute();
  }

  async getDefinition(name: string): Promise<StoredFunction | undefined> {
    const row = await this.db.selectFrom('function_definitions').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toStored(row);
  }

  async listDefinitions(): Promise<StoredFunction[]> {
    const rows = await this.db.selectFrom('function_definitions').selectAll().orderBy('name').execute();
    return rows.map(toStored);
  }

  async deleteDefinition(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('function_definitions').where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async insertExecution(record: FunctionExecutionRecord): Promise<boolean> {
    const result = await this.db
      .insertInto('function_executions')
      .values(toRow(record))
      .onConflict((conflict) => conflict.column('idempotency_key').doNothing())
      .executeTakeFirst();
    // An insert skipped for a duplicate idempotency key reports 0 rows on both dialects.
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async updateExecution(record: FunctionExecutionRecord): Promise<void> {
    const { id, ...row } = toRow(record);
    await this.db.updateTable('function_executions').set(row).where('id', '=', id).execute();
  }

  async getExecution(id: string): Promise<FunctionExecutionRecord | undefined> {
    const row = await this.db.selectFrom('function_executions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async findByKey(idempotencyKey: string): Promise<FunctionExecutionRecord | undefined> {
    const row = await this.db
      .selectFrom('function_executions')
      .selectAll()
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async listExecutions(query: ExecutionQuery = {}): Promise<FunctionExecutionRecord[]> {
    let select = this.db.selectFrom('function_executions').selectAll();
    if (query.functionName !== undefined) select = select.where('function_name', '=', query.functionName);
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    if (query.chainRootId !== undefined) select = select.where('chain_root_id', '=', query.chainRootId);
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toRecord);
  }

  async listDue(now: number, limit: number): Promise<FunctionExecutionRecord[]> {
    const rows = await this.db
      .selectFrom('function_executions')
      .selectAll()
      .where('status', 'in', ['pending', 'retrying'])
      .where('scheduled_at', '<=', now)
      .orderBy('scheduled_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }
}

function toStored(row: Selectable<SqlSchema['function_definitions']>): StoredFunction {
  return {
    name: row.name,
    version: Number(row.version),
    definition: JSON.parse(row.definition) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
const parse = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown));
const numberOrNull = (value: number | null): number | null => (value === null ? null : Number(value));

function toRow(record: FunctionExecutionRecord): SqlSchema['function_executions'] {
  return {
    id: record.id,
    function_name: record.functionName,
    function_version: record.functionVersion,
    status: record.status,
    attempt: record.attempt,
    max_attempts: record.maxAttempts,
    input: JSON.stringify(record.input ?? null),
    output: json(record.output),
    error: record.error === null ? null : JSON.stringify(record.error),
    stdout: record.stdout,
    stderr: record.stderr,
    exit_code: record.exitCode,
    trigger: JSON.stringify(record.trigger),
    trigger_event: json(record.triggerEvent),
    workflow_id: record.workflowId,
    instance_id: record.instanceId,
    parent_id: record.parentId,
    chain_root_id: record.chainRootId,
    idempotency_key: record.idempotencyKey,
    created_at: record.createdAt,
    scheduled_at: record.scheduledAt,
    started_at: record.startedAt,
    finished_at: record.finishedAt,
    duration_ms: record.durationMs,
  };
}

function toRecord(row: ExecutionRow): FunctionExecutionRecord {
  return {
    id: row.id,
    functionName: row.function_name,
    functionVersion: Number(row.function_version),
    status: row.status as ExecutionStatus,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    input: parse(row.input),
    output: parse(row.output),
    error: parse(row.error) as FunctionExecutionRecord['error'],
    stdout: row.stdout,
    stderr: row.stderr,
    exitCode: numberOrNull(row.exit_code),
    trigger: JSON.parse(row.trigger) as FunctionExecutionRecord['trigger'],
    triggerEvent: parse(row.trigger_event),
    workflowId: row.workflow_id,
    instanceId: row.instance_id,
    parentId: row.parent_id,
    chainRootId: row.chain_root_id,
    idempotencyKey: row.idempotency_key,
    createdAt: Number(row.created_at),
    scheduledAt: Number(row.scheduled_at),
    startedAt: numberOrNull(row.started_at),
    finishedAt: numberOrNull(row.finished_at),
    durationMs: numberOrNull(row.duration_ms),
  };
}
