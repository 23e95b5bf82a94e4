import type { Kysely, Migration, MigrationProvider } from 'kysely';

/**
 * Schema migrations for both SQL backends, applied in order by Kysely's migrator (which records them in
 * `kysely_migration` and locks so two replicas cannot migrate at once). Add new ones at the end; never
 * edit one that has shipped. Types are chosen to mean the same in SQLite and PostgreSQL.
 */
const migrations: Record<string, Migration> = {
  '0001_discovered_models': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('discovered_models')
        .ifNotExists()
        .addColumn('provider', 'text', (column) => column.primaryKey())
        .addColumn('models', 'text', (column) => column.notNull())
        .addColumn('discovered_at', 'bigint', (column) => column.notNull())
        .execute();
    },
  },
  '0002_keys_usage_budgets': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('gateway_keys')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('hash', 'text', (column) => column.notNull().unique())
        .addColumn('prefix', 'text', (column) => column.notNull())
        .addColumn('owner_user', 'text')
        .addColumn('owner_team', 'text')
        .addColumn('owner_project', 'text')
        .addColumn('scopes', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema
        .createTable('provider_keys')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('provider', 'text', (column) => column.notNull())
        .addColumn('label', 'text', (column) => column.notNull())
        .addColumn('ciphertext', 'text', (column) => column.notNull())
        .addColumn('iv', 'text', (column) => column.notNull())
        .addColumn('tag', 'text', (column) => column.notNull())
        .addColumn('master_fingerprint', 'text', (column) => column.notNull())
        .addColumn('fingerprint', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('usage_records')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('at', 'bigint', (column) => column.notNull())
        .addColumn('request_id', 'text', (column) => column.notNull())
        .addColumn('endpoint', 'text', (column) => column.notNull())
        .addColumn('key_id', 'text')
        .addColumn('user_id', 'text')
        .addColumn('team_id', 'text')
        .addColumn('project_id', 'text')
        .addColumn('workflow_id', 'text')
        .addColumn('instance_id', 'text')
        .addColumn('transition_id', 'text')
        .addColumn('agent_id', 'text')
        .addColumn('provider', 'text')
        .addColumn('requested_model', 'text', (column) => column.notNull())
        .addColumn('model', 'text')
        .addColumn('deployment', 'text')
        .addColumn('prompt_tokens', 'integer', (column) => column.notNull())
        .addColumn('completion_tokens', 'integer', (column) => column.notNull())
        .addColumn('cached_tokens', 'integer', (column) => column.notNull())
        .addColumn('cache_write_tokens', 'integer', (column) => column.notNull())
        .addColumn('reasoning_tokens', 'integer', (column) => column.notNull())
        .addColumn('cost_usd', 'double precision')
        .addColumn('latency_ms', 'double precision', (column) => column.notNull())
        .addColumn('ttft_ms', 'double precision')
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('http_status', 'integer', (column) => column.notNull())
        .addColumn('error_code', 'text')
        .addColumn('attempts', 'integer', (column) => column.notNull())
        .addColumn('stream', 'integer', (column) => column.notNull())
        .addColumn('tags', 'text', (column) => column.notNull())
        .execute();
      for (const columns of [['at'], ['key_id', 'at'], ['user_id', 'at'], ['project_id', 'at'], ['workflow_id', 'at']]) {
        await db.schema
          .createIndex(`usage_records_${columns.join('_')}`)
          .on('usage_records')
          .columns(columns)
          .execute();
      }
      await db.schema
        .createTable('budgets')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull().unique())
        .addColumn('scope_type', 'text', (column) => column.notNull())
        .addColumn('scope_value', 'text')
        .addColumn('period', 'text', (column) => column.notNull())
        .addColumn('limit_usd', 'double precision', (column) => column.notNull())
        .addColumn('alerts', 'text', (column) => column.notNull())
        .addColumn('source', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('budget_spend')
        .addColumn('budget_id', 'text', (column) => column.notNull())
        .addColumn('period_start', 'bigint', (column) => column.notNull())
        .addColumn('spent_usd', 'double precision', (column) => column.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('budget_spend_pk', ['budget_id', 'period_start'])
        .execute();
      await db.schema
        .createTable('budget_holds')
        .addColumn('id', 'text', (column) => column.notNull())
        .addColumn('budget_id', 'text', (column) => column.notNull())
        .addColumn('period_start', 'bigint', (column) => column.notNull())
        .addColumn('amount_usd', 'double precision', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('budget_holds_pk', ['id', 'budget_id'])
        .execute();
      await db.schema.createIndex('budget_holds_budget').on('budget_holds').columns(['budget_id', 'period_start']).execute();
      await db.schema
        .createTable('budget_alerts')
        .addColumn('budget_id', 'text', (column) => column.notNull())
        .addColumn('period_start', 'bigint', (column) => column.notNull())
        .addColumn('threshold', 'double precision', (column) => column.notNull())
        .addColumn('fired_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('budget_alerts_pk', ['budget_id', 'period_start', 'threshold'])
        .execute();
    },
  },
  '0003_workflows': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('workflow_definitions')
        .addColumn('workflow_id', 'text', (column) => column.notNull())
        .addColumn('version', 'integer', (column) => column.notNull())
        .addColumn('definition', 'text', (column) => column.notNull())
        .addColumn('analysis', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('workflow_definitions_pk', ['workflow_id', 'version'])
        .execute();
      await db.schema
        .createTable('workflow_instances')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('workflow_id', 'text', (column) => column.notNull())
        .addColumn('version', 'integer', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('marking', 'text', (column) => column.notNull())
        .addColumn('variables', 'text', (column) => column.notNull())
        .addColumn('metadata', 'text', (column) => column.notNull())
        .addColumn('error', 'text')
        .addColumn('revision', 'integer', (column) => column.notNull())
        .addColumn('last_sequence', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('workflow_instances_workflow').on('workflow_instances').columns(['workflow_id', 'created_at']).execute();
      await db.schema.createIndex('workflow_instances_status').on('workflow_instances').columns(['status', 'created_at']).execute();
      await db.schema
        .createTable('workflow_tokens')
        .addColumn('instance_id', 'text', (column) => column.notNull())
        .addColumn('id', 'text', (column) => column.notNull())
        .addColumn('place', 'text', (column) => column.notNull())
        .addColumn('data', 'text', (column) => column.notNull())
        .addColumn('metadata', 'text', (column) => column.notNull())
        .addColumn('created_by', 'text')
        .addColumn('parents', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('workflow_tokens_pk', ['instance_id', 'id'])
        .execute();
      await db.schema
        .createTable('workflow_events')
        .addColumn('instance_id', 'text', (column) => column.notNull())
        .addColumn('sequence', 'integer', (column) => column.notNull())
        .addColumn('workflow_id', 'text', (column) => column.notNull())
        .addColumn('type', 'text', (column) => column.notNull())
        .addColumn('firing_id', 'text')
        .addColumn('at', 'bigint', (column) => column.notNull())
        .addColumn('data', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('workflow_events_pk', ['instance_id', 'sequence'])
        .execute();
      await db.schema
        .createTable('workflow_outbox')
        .addColumn('firing_id', 'text', (column) => column.primaryKey())
        .addColumn('instance_id', 'text', (column) => column.notNull())
        .addColumn('workflow_id', 'text', (column) => column.notNull())
        .addColumn('transition_id', 'text', (column) => column.notNull())
        .addColumn('action', 'text', (column) => column.notNull())
        .addColumn('input', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('attempts', 'integer', (column) => column.notNull())
        .addColumn('available_at', 'bigint', (column) => column.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('output', 'text')
        .execute();
      await db.schema.createIndex('workflow_outbox_pending').on('workflow_outbox').columns(['status', 'available_at']).execute();
      await db.schema
        .createTable('workflow_timers')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('instance_id', 'text', (column) => column.notNull())
        .addColumn('workflow_id', 'text', (column) => column.notNull())
        .addColumn('transition_id', 'text', (column) => column.notNull())
        .addColumn('due_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('workflow_timers_due').on('workflow_timers').columns(['due_at']).execute();
    },
  },
  '0004_functions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('function_definitions')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('version', 'integer', (column) => column.notNull())
        .addColumn('definition', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('function_executions')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('function_name', 'text', (column) => column.notNull())
        .addColumn('function_version', 'integer', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('attempt', 'integer', (column) => column.notNull())
        .addColumn('max_attempts', 'integer', (column) => column.notNull())
        .addColumn('input', 'text', (column) => column.notNull())
        .addColumn('output', 'text')
        .addColumn('error', 'text')
        .addColumn('stdout', 'text', (column) => column.notNull())
        .addColumn('stderr', 'text', (column) => column.notNull())
        .addColumn('exit_code', 'integer')
        .addColumn('trigger', 'text', (column) => column.notNull())
        .addColumn('trigger_event', 'text')
        .addColumn('workflow_id', 'text')
        .addColumn('instance_id', 'text')
        .addColumn('parent_id', 'text')
        .addColumn('chain_root_id', 'text')
        .addColumn('idempotency_key', 'text', (column) => column.unique())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('scheduled_at', 'bigint', (column) => column.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('duration_ms', 'double precision')
        .execute();
      for (const columns of [['function_name', 'created_at'], ['chain_root_id'], ['status', 'scheduled_at']]) {
        await db.schema
          .createIndex(`function_executions_${columns.join('_')}`)
          .on('function_executions')
          .columns(columns)
          .execute();
      }
    },
  },
  '0005_agents': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('agent_definitions')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('version', 'integer', (column) => column.notNull())
        .addColumn('definition', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('agent_executions')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('agent_id', 'text', (column) => column.notNull())
        .addColumn('workflow_id', 'text')
        .addColumn('instance_id', 'text')
        .addColumn('transition_id', 'text')
        .addColumn('place_id', 'text')
        .addColumn('firing_id', 'text')
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('input', 'text', (column) => column.notNull())
        .addColumn('output', 'text')
        .addColumn('error', 'text')
        .addColumn('requested_model', 'text', (column) => column.notNull())
        .addColumn('provider', 'text')
        .addColumn('model', 'text')
        .addColumn('prompt_tokens', 'integer', (column) => column.notNull())
        .addColumn('completion_tokens', 'integer', (column) => column.notNull())
        .addColumn('cost_usd', 'double precision')
        .addColumn('duration_ms', 'double precision', (column) => column.notNull())
        .addColumn('attempts', 'integer', (column) => column.notNull())
        .addColumn('started_at', 'bigint', (column) => column.notNull())
        .addColumn('finished_at', 'bigint')
        .execute();
      for (const columns of [
        ['agent_id', 'started_at'],
        ['instance_id', 'started_at'],
        ['workflow_id', 'started_at'],
      ]) {
        await db.schema
          .createIndex(`agent_executions_${columns.join('_')}`)
          .on('agent_executions')
          .columns(columns)
          .execute();
      }
    },
  },
  '0006_rules': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('rule_versions')
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('version', 'integer', (column) => column.notNull())
        .addColumn('body', 'text', (column) => column.notNull())
        .addColumn('description', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('rule_versions_pk', ['name', 'version'])
        .execute();
    },
  },
};

export const sqlMigrations: MigrationProvider = {
  getMigrations: async () => migrations,
};
