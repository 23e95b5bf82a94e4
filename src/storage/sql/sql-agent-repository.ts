import { isDeepStrictEqual } from 'node:util';
import type { Kysely, Selectable } from 'kysely';
import type { AgentDefinitionRecord, AgentExecutionFilter, AgentExecutionRecord, AgentRepository } from '../agent-repository.js';
import type { SqlSchema } from './sql-schema.js';

type ExecutionRow = SqlSchema['agent_executions'];

/**
 * Agent definitions and executions over Kysely (SQLite and PostgreSQL). JSON parts (definition,
 * prompts, output, error) are text columns. A definition's version moves in one transaction that reads
 * the stored one, so two concurrent saves of a changed definition get two versions.
 */
export class SqlAgentRepository implements AgentRepository {
  constructor(private readonly db: Kysely<SqlSchema>) {}

  async saveDefinition(id: string, definition: Record<string, unknown>, now: number): Promise<AgentDefinitionRecord> {
    return this.db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('agent_definitions').selectAll().where('id', '=', id).executeTakeFirst();
      if (!current) {
        const row = { id, version: 1, definition: JSON.stringify(definition), created_at: now, updated_at: now };
        await trx.insertInto('agent_definitions').values(row).execute();
        return definitionOf(row);
      }
      const stored = definitionOf(current);
      if (isDeepStrictEqual(stored.definition, definition)) return stored;
      const next = { version: stored.version + 1, definition: JSON.stringify(definition), updated_at: now };
      const result = await trx
        .updateTable('agent_definitions')
        .set(next)
        .where('id', '=', id)
        .where('version', '=', stored.version)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw new Error(`agent '${id}' was changed concurrently; save it again`);
      return { ...stored, version: next.version, definition, updatedAt: now };
    });
  }

  async getDefinition(id: string): Promise<AgentDefinitionRecord | undefined> {
    const row = await this.db.selectFrom('agent_definitions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? definitionOf(row) : undefined;
  }

  async listDefinitions(): Promise<AgentDefinitionRecord[]> {
    const rows = await this.db.selectFrom('agent_definitions').selectAll().orderBy('id').execute();
    return rows.map(definitionOf);
  }

  async deleteDefinition(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('agent_definitions').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async saveExecution(execution: AgentExecutionRecord): Promise<void> {
    const row = rowOf(execution);
    const { id: _id, ...changes } = row;
    await this.db
      .insertInto('agent_executions')
      .values(row)
      .onConflict((conflict) => conflict.column('id').doUpdateSet(changes))
      .execute();
  }

  async getExecution(id: string): Promise<AgentExecutionRecord | undefined> {
    const row = await this.db.selectFrom('agent_executions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? executionOf(row) : undefined;
  }

  async listExecutions(filter: AgentExecutionFilter): Promise<AgentExecutionRecord[]> {
    let query = this.db.selectFrom('agent_executions').selectAll();
    if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
    if (filter.workflowId !== undefined) query = query.where('workflow_id', '=', filter.workflowId);
    if (filter.instanceId !== undefined) query = query.where('instance_id', '=', filter.instanceId);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    const rows = await query
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.max(1, Math.min(filter.limit ?? 100, 1000)))
      .execute();
    return rows.map(executionOf);
  }
}

function definitionOf(row: Selectable<SqlSchema['agent_definitions']>): AgentDefinitionRecord {
  return {
    id: row.id,
    version: Number(row.version),
    definition: JSON.parse(row.definition) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function rowOf(execution: AgentExecutionRecord): ExecutionRow {
  return {
    id: execution.id,
    agent_id: execution.agentId,
    workflow_id: execution.workflowId,
    instance_id: execution.instanceId,
    transition_id: execution.transitionId,
    place_id: execution.placeId,
    firing_id: execution.firingId,
    status: execution.status,
    input: JSON.stringify(execution.input),
    output: execution.output === null ? null : JSON.stringify(execution.output),
    error: execution.error === null ? null : JSON.stringify(execution.error),
    requested_model: execution.requestedModel,
    provider: execution.provider,
    model: execution.model,
    prompt_tokens: execution.promptTokens,
    completion_tokens: execution.completionTokens,
    cost_usd: execution.costUsd,
    duration_ms: execution.durationMs,
    attempts: execution.attempts,
    started_at: execution.startedAt,
    finished_at: execution.finishedAt,
  };
}

function executionOf(row: Selectable<ExecutionRow>): AgentExecutionRecord {
  return {
    id: row.id,
    agentId: row.agent_id,
    workflowId: row.workflow_id,
    instanceId: row.instance_id,
    transitionId: row.transition_id,
    placeId: row.place_id,
    firingId: row.firing_id,
    status: row.status as AgentExecutionRecord['status'],
    input: JSON.parse(row.input) as AgentExecutionRecord['input'],
    output: row.output === null ? null : (JSON.parse(row.output) as AgentExecutionRecord['output']),
    error: row.error === null ? null : (JSON.parse(row.error) as AgentExecutionRecord['error']),
    requestedModel: row.requested_model,
    provider: row.provider,
    model: row.model,
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
    durationMs: Number(row.duration_ms),
    attempts: Number(row.attempts),
    startedAt: Number(row.started_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}
