import type { Kysely, Selectable, Transaction } from 'kysely';
import type { InstanceStatus, NewWorkflowEvent, Token, WorkflowEvent, WorkflowInstance } from '../../engine/workflow-instance.js';
import type {
  CommitResult,
  InstanceCommit,
  InstanceFilter,
  InstanceStart,
  NewOutboxEntry,
  OutboxEntry,
  StoredDefinition,
  TimerEntry,
  WorkflowRepository,
} from '../workflow-repository.js';
import type { SqlSchema } from './sql-schema.js';

/** Thrown inside a transaction to roll it back; turned into a `conflict` value outside. */
class Conflict extends Error {}

/**
 * The workflow store on SQLite or PostgreSQL. A commit is one transaction that starts with the
 * compare-and-set `UPDATE workflow_instances ... WHERE revision = expected` (which takes the row lock on
 * PostgreSQL and the write lock on SQLite, so concurrent commits on one instance serialise and all but
 * one see a moved revision), then deletes the consumed tokens (all must exist), inserts the produced
 * ones, appends the events with the next sequence numbers, and writes the outbox and timers.
 */
export class SqlWorkflowRepository implements WorkflowRepository {
  constructor(private readonly db: Kysely<SqlSchema>) {}

  async saveDefinition(record: StoredDefinition): Promise<{ ok: true } | { ok: false; reason: 'version_exists' }> {
    const inserted = await this.db
      .insertInto('workflow_definitions')
      .values({
        workflow_id: record.workflowId,
        version: record.version,
        definition: JSON.stringify(record.definition),
        analysis: JSON.stringify(record.analysis),
        created_at: record.createdAt,
      })
      .onConflict((conflict) => conflict.columns(['workflow_id', 'version']).doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1 ? { ok: true } : { ok: false, reason: 'version_exists' };
  }

  async getDefinition(workflowId: string, version?: number): Promise<StoredDefinition | undefined> {
    let query = this.db.selectFrom('workflow_definitions').selectAll().where('workflow_id', '=', workflowId);
    query = version === undefined ? query.orderBy('version', 'desc').limit(1) : query.where('version', '=', version);
    const row = await query.executeTakeFirst();
    return row && toDefinition(row);
  }

  async listDefinitions(): Promise<StoredDefinition[]> {
    const rows = await this.db
      .selectFrom('workflow_definitions as d')
      .selectAll('d')
      .where((eb) =>
        eb(
          'd.version',
          '=',
          eb
            .selectFrom('workflow_definitions as latest')
            .select((inner) => inner.fn.max('latest.version').as('v'))
            .whereRef('latest.workflow_id', '=', 'd.workflow_id'),
        ),
      )
      .orderBy('d.workflow_id')
      .execute();
    return rows.map(toDefinition);
  }

  async listVersions(workflowId: string): Promise<StoredDefinition[]> {
    const rows = await this.db
      .selectFrom('workflow_definitions')
      .selectAll()
      .where('workflow_id', '=', workflowId)
      .orderBy('version')
      .execute();
    return rows.map(toDefinition);
  }

  async createInstance(start: InstanceStart): Promise<{ ok: true; events: WorkflowEvent[] } | { ok: false; reason: 'exists' }> {
    const instance = start.instance;
    try {
      const events = await this.db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('workflow_instances')
          .values({
            id: instance.id,
            workflow_id: instance.workflowId,
            version: instance.version,
            status: instance.status,
            marking: JSON.stringify(instance.marking),
            variables: JSON.stringify(instance.variables),
            metadata: JSON.stringify(instance.metadata),
            error: instance.error ? JSON.stringify(instance.error) : null,
            revision: 1,
            last_sequence: start.events.length,
            created_at: instance.createdAt,
            updated_at: instance.updatedAt,
          })
          .onConflict((conflict) => conflict.column('id').doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw new Conflict('exists');
        await insertTokens(trx, start.tokens);
        const appended = await insertEvents(trx, instance.id, instance.workflowId, 0, start.events);
        await insertOutbox(trx, start.outbox ?? []);
        await insertTimers(trx, start.timers ?? []);
        return appended;
      });
      return { ok: true, events };
    } catch (error) {
      if (error instanceof Conflict) return { ok: false, reason: 'exists' };
      throw error;
    }
  }

  async getInstance(instanceId: string): Promise<WorkflowInstance | undefined> {
    const row = await this.db.selectFrom('workflow_instances').selectAll().where('id', '=', instanceId).executeTakeFirst();
    if (!row) return undefined;
    const tokens = await this.db
      .selectFrom('workflow_tokens')
      .selectAll()
      .where('instance_id', '=', instanceId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return toInstance(row, tokens.map(toToken));
  }

  async listInstances(filter: InstanceFilter = {}): Promise<WorkflowInstance[]> {
    let query = this.db.selectFrom('workflow_instances').selectAll();
    if (filter.workflowId !== undefined) query = query.where('workflow_id', '=', filter.workflowId);
    if (filter.statuses !== undefined)
      query = filter.statuses.length === 0 ? query.where('id', '=', '') : query.where('status', 'in', [...filter.statuses]);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
    if (rows.length === 0) return [];
    const tokens = await this.db
      .selectFrom('workflow_tokens')
      .selectAll()
      .where(
        'instance_id',
        'in',
        rows.map((row) => row.id),
      )
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => toInstance(row, tokens.filter((token) => token.instance_id === row.id).map(toToken)));
  }

  async commit(change: InstanceCommit): Promise<CommitResult> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const updatedAt = change.events.reduce((latest, event) => Math.max(latest, event.at), 0);
        const updated = await trx
          .updateTable('workflow_instances')
          .set((eb) => ({
            revision: eb('revision', '+', 1),
            last_sequence: eb('last_sequence', '+', change.events.length),
            status: change.status,
            marking: JSON.stringify(change.marking),
            variables: JSON.stringify(change.variables),
            error: change.error ? JSON.stringify(change.error) : null,
            ...(updatedAt > 0 ? { updated_at: updatedAt } : {}),
          }))
          .where('id', '=', change.instanceId)
          .where('revision', '=', change.expectedRevision)
          .returning(['revision', 'last_sequence', 'workflow_id'])
          .executeTakeFirst();
        if (!updated) throw new Conflict('revision');
        if (change.consume.length > 0) {
          const deleted = await trx
            .deleteFrom('workflow_tokens')
            .where('instance_id', '=', change.instanceId)
            .where('id', 'in', [...change.consume])
            .executeTakeFirst();
          if (Number(deleted.numDeletedRows) !== new Set(change.consume).size) throw new Conflict('a consumed token is not live');
        }
        await insertTokens(trx, change.produce);
        const events = await insertEvents(
          trx,
          change.instanceId,
          updated.workflow_id,
          updated.last_sequence - change.events.length,
          change.events,
        );
        if (change.enqueue && change.enqueue.length > 0) {
          const taken = await trx
            .selectFrom('workflow_outbox')
            .select('firing_id')
            .where(
              'firing_id',
              'in',
              change.enqueue.map((entry) => entry.firingId),
            )
            .executeTakeFirst();
          if (taken) throw new Conflict(`firing ${taken.firing_id} is already in the outbox`);
          await insertOutbox(trx, change.enqueue);
        }
        for (const settled of change.settle ?? []) {
          await trx
            .updateTable('workflow_outbox')
            .set({
              status: settled.status,
              output: settled.output === undefined ? null : JSON.stringify(settled.output),
              lease_owner: null,
              lease_until: null,
              ...(settled.error === undefined ? {} : { last_error: settled.error }),
            })
            .where('firing_id', '=', settled.firingId)
            .execute();
        }
        if (change.cancelTimers && change.cancelTimers.length > 0)
          await trx
            .deleteFrom('workflow_timers')
            .where('id', 'in', [...change.cancelTimers])
            .execute();
        await insertTimers(trx, change.schedule ?? []);
        return { ok: true as const, revision: updated.revision, events };
      });
    } catch (error) {
      if (!(error instanceof Conflict)) throw error;
      const current = await this.db
        .selectFrom('workflow_instances')
        .select('revision')
        .where('id', '=', change.instanceId)
        .executeTakeFirst();
      if (!current) return { ok: false, reason: 'not_found' };
      const message =
        error.message === 'revision' ? `the instance is at revision ${current.revision}, not ${change.expectedRevision}` : error.message;
      return { ok: false, reason: 'conflict', currentRevision: current.revision, message };
    }
  }

  async readEvents(instanceId: string, options: { afterSequence?: number; limit?: number } = {}): Promise<WorkflowEvent[]> {
    const rows = await this.db
      .selectFrom('workflow_events')
      .selectAll()
      .where('instance_id', '=', instanceId)
      .where('sequence', '>', options.afterSequence ?? 0)
      .orderBy('sequence')
      .limit(options.limit ?? 1000)
      .execute();
    return rows.map(toEvent);
  }

  async claimOutbox(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<OutboxEntry[]> {
    const candidates = await this.db
      .selectFrom('workflow_outbox')
      .select('firing_id')
      .where('status', '=', 'pending')
      .where('available_at', '<=', options.now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', options.now)]))
      .orderBy('available_at')
      .limit(options.limit)
      .execute();
    const claimed: OutboxEntry[] = [];
    for (const { firing_id } of candidates) {
      const row = await this.db
        .updateTable('workflow_outbox')
        .set((eb) => ({ lease_owner: options.owner, lease_until: options.now + options.leaseMs, attempts: eb('attempts', '+', 1) }))
        .where('firing_id', '=', firing_id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', options.now)]))
        .returningAll()
        .executeTakeFirst();
      if (row) claimed.push(toOutbox(row));
    }
    return claimed;
  }

  async releaseOutbox(firingId: string, options: { owner: string; availableAt: number; error?: string }): Promise<void> {
    await this.db
      .updateTable('workflow_outbox')
      .set({
        lease_owner: null,
        lease_until: null,
        available_at: options.availableAt,
        ...(options.error === undefined ? {} : { last_error: options.error }),
      })
      .where('firing_id', '=', firingId)
      .where('status', '=', 'pending')
      .where('lease_owner', '=', options.owner)
      .execute();
  }

  async getOutbox(firingId: string): Promise<OutboxEntry | undefined> {
    const row = await this.db.selectFrom('workflow_outbox').selectAll().where('firing_id', '=', firingId).executeTakeFirst();
    return row && toOutbox(row);
  }

  async dueTimers(now: number, limit: number): Promise<TimerEntry[]> {
    const rows = await this.db
      .selectFrom('workflow_timers')
      .selectAll()
      .where('due_at', '<=', now)
      .orderBy('due_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toTimer);
  }

  async nextTimerAt(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('workflow_timers')
      .select((eb) => eb.fn.min('due_at').as('next'))
      .executeTakeFirst();
    return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  }
}

type Db = Kysely<SqlSchema> | Transaction<SqlSchema>;

async function insertTokens(db: Db, tokens: readonly Token[]): Promise<void> {
  if (tokens.length === 0) return;
  await db
    .insertInto('workflow_tokens')
    .values(
      tokens.map((token) => ({
        instance_id: token.instanceId,
        id: token.id,
        place: token.place,
        data: JSON.stringify(token.data),
        metadata: JSON.stringify(token.metadata),
        created_by: token.createdBy ?? null,
        parents: JSON.stringify(token.parents),
        created_at: token.createdAt,
      })),
    )
    .execute();
}

async function insertEvents(
  db: Db,
  instanceId: string,
  workflowId: string,
  after: number,
  events: readonly NewWorkflowEvent[],
): Promise<WorkflowEvent[]> {
  const rows = events.map((event, index) => ({
    instance_id: instanceId,
    sequence: after + index + 1,
    workflow_id: workflowId,
    type: event.type,
    firing_id: event.firingId ?? null,
    at: event.at,
    data: JSON.stringify(event.data),
  }));
  if (rows.length > 0) await db.insertInto('workflow_events').values(rows).execute();
  return rows.map(toEvent);
}

async function insertOutbox(db: Db, entries: readonly NewOutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('workflow_outbox')
    .values(
      entries.map((entry) => ({
        firing_id: entry.firingId,
        instance_id: entry.instanceId,
        workflow_id: entry.workflowId,
        transition_id: entry.transitionId,
        action: JSON.stringify(entry.action),
        input: JSON.stringify(entry.input),
        status: 'pending',
        attempts: 0,
        available_at: entry.availableAt,
        lease_owner: null,
        lease_until: null,
        last_error: null,
        output: null,
      })),
    )
    .execute();
}

async function insertTimers(db: Db, timers: readonly TimerEntry[]): Promise<void> {
  if (timers.length === 0) return;
  await db
    .insertInto('workflow_timers')
    .values(
      timers.map((timer) => ({
        id: timer.id,
        instance_id: timer.instanceId,
        workflow_id: timer.workflowId,
        transition_id: timer.transitionId,
        due_at: timer.dueAt,
      })),
    )
    .onConflict((conflict) => conflict.column('id').doNothing())
    .execute();
}

function toDefinition(row: Selectable<SqlSchema['workflow_definitions']>): StoredDefinition {
  return {
    workflowId: row.workflow_id,
    version: Number(row.version),
    definition: JSON.parse(row.definition),
    analysis: JSON.parse(row.analysis),
    createdAt: Number(row.created_at),
  };
}

function toInstance(row: Selectable<SqlSchema['workflow_instances']>, tokens: Token[]): WorkflowInstance {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    version: Number(row.version),
    status: row.status as InstanceStatus,
    marking: JSON.parse(row.marking),
    tokens,
    variables: JSON.parse(row.variables),
    metadata: JSON.parse(row.metadata),
    revision: Number(row.revision),
    error: row.error === null ? undefined : JSON.parse(row.error),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toToken(row: Selectable<SqlSchema['workflow_tokens']>): Token {
  return {
    id: row.id,
    instanceId: row.instance_id,
    place: row.place,
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
    createdBy: row.created_by ?? undefined,
    parents: JSON.parse(row.parents),
    createdAt: Number(row.created_at),
  };
}

function toEvent(row: Selectable<SqlSchema['workflow_events']>): WorkflowEvent {
  return {
    instanceId: row.instance_id,
    workflowId: row.workflow_id,
    sequence: Number(row.sequence),
    type: row.type,
    ...(row.firing_id === null ? {} : { firingId: row.firing_id }),
    at: Number(row.at),
    data: JSON.parse(row.data),
  };
}

function toOutbox(row: Selectable<SqlSchema['workflow_outbox']>): OutboxEntry {
  return {
    firingId: row.firing_id,
    instanceId: row.instance_id,
    workflowId: row.workflow_id,
    transitionId: row.transition_id,
    action: JSON.parse(row.action),
    input: JSON.parse(row.input),
    status: row.status as OutboxEntry['status'],
    attempts: Number(row.attempts),
    availableAt: Number(row.available_at),
    leaseOwner: row.lease_owner ?? undefined,
    leaseUntil: row.lease_until === null ? undefined : Number(row.lease_until),
    lastError: row.last_error ?? undefined,
    output: row.output === null ? undefined : JSON.parse(row.output),
  };
}

function toTimer(row: Selectable<SqlSchema['workflow_timers']>): TimerEntry {
  return {
    id: row.id,
    instanceId: row.instance_id,
    workflowId: row.workflow_id,
    transitionId: row.transition_id,
    dueAt: Number(row.due_at),
  };
}
