/**
 * The relational schema both SQL backends share (SQLite and PostgreSQL), as Kysely sees it. Column types
 * are the lowest common denominator: text, integer/bigint (epoch ms), double precision (USD), JSON as
 * text, booleans as 0/1.
 */
export interface SqlSchema {
  discovered_models: { provider: string; models: string; discovered_at: number };
  gateway_keys: {
    id: string;
    name: string;
    hash: string;
    prefix: string;
    owner_user: string | null;
    owner_team: string | null;
    owner_project: string | null;
    scopes: string;
    created_at: number;
    expires_at: number | null;
    revoked_at: number | null;
    last_used_at: number | null;
  };
  provider_keys: {
    id: string;
    provider: string;
    label: string;
    ciphertext: string;
    iv: string;
    tag: string;
    master_fingerprint: string;
    fingerprint: string;
    created_at: number;
  };
  usage_records: {
    id: string;
    at: number;
    request_id: string;
    endpoint: string;
    key_id: string | null;
    user_id: string | null;
    team_id: string | null;
    project_id: string | null;
    workflow_id: string | null;
    instance_id: string | null;
    transition_id: string | null;
    agent_id: string | null;
    provider: string | null;
    requested_model: string;
    model: string | null;
    deployment: string | null;
    prompt_tokens: number;
    completion_tokens: number;
    cached_tokens: number;
    cache_write_tokens: number;
    reasoning_tokens: number;
    cost_usd: number | null;
    latency_ms: number;
    ttft_ms: number | null;
    status: string;
    http_status: number;
    error_code: string | null;
    attempts: number;
    stream: number;
    tags: string;
  };
  budgets: {
    id: string;
    name: string;
    scope_type: string;
    scope_value: string | null;
    period: string;
    limit_usd: number;
    alerts: string;
    source: string;
    created_at: number;
  };
  budget_spend: { budget_id: string; period_start: number; spent_usd: number };
  budget_holds: { id: string; budget_id: string; period_start: number; amount_usd: number; expires_at: number };
  budget_alerts: { budget_id: string; period_start: number; threshold: number; fired_at: number };
  workflow_definitions: { workflow_id: string; version: number; definition: string; analysis: string; created_at: number };
  workflow_instances: {
    id: string;
    workflow_id: string;
    version: number;
    status: string;
    marking: string;
    variables: string;
    metadata: string;
    error: string | null;
    revision: number;
    last_sequence: number;
    created_at: number;
    updated_at: number;
  };
  workflow_tokens: {
    instance_id: string;
    id: string;
    place: string;
    data: string;
    metadata: string;
    created_by: string | null;
    parents: string;
    created_at: number;
  };
  workflow_events: {
    instance_id: string;
    sequence: number;
    workflow_id: string;
    type: string;
    firing_id: string | null;
    at: number;
    data: string;
  };
  workflow_outbox: {
    firing_id: string;
    instance_id: string;
    workflow_id: string;
    transition_id: string;
    action: string;
    input: string;
    status: string;
    attempts: number;
    available_at: number;
    lease_owner: string | null;
    lease_until: number | null;
    last_error: string | null;
    output: string | null;
  };
  workflow_timers: { id: string; instance_id: string; workflow_id: string; transition_id: string; due_at: number };
}
