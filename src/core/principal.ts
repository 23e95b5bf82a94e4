/**
 * Who a request acts for, as the access layer established it: the gateway key (or the admin key, or an
 * anonymous caller on loopback), its owner for attribution, and the limits its scopes carry. Every
 * front door builds one and hands it to the use cases; usage records and budgets read it.
 */
export interface Principal {
  kind: 'key' | 'admin' | 'anonymous';
  /** The gateway key's id (`key_…`); null for the admin key and anonymous callers. */
  keyId: string | null;
  /** The key's name, for messages. */
  name: string;
  user: string | null;
  team: string | null;
  project: string | null;
  /** Model patterns the key may call (`gpt-4o`, `openai/*`, `*`); undefined means any. */
  models: string[] | undefined;
  rpm: number | undefined;
  tpm: number | undefined;
  concurrency: number | undefined;
  /** The key's own spending limit. */
  budget: { limitUsd: number; period: 'daily' | 'monthly' } | undefined;
}

/** Who the work belongs to beyond the caller: workflow, instance, transition and agent ids, tags, environment. */
export interface Attribution {
  workflowId?: string;
  instanceId?: string;
  transitionId?: string;
  agentId?: string;
  tags?: string[];
  /** `development`, `production`… (from the `x-cb-environment` header or config), for cost rules. */
  environment?: string;
}

export const anonymousPrincipal: Principal = {
  kind: 'anonymous',
  keyId: null,
  name: 'anonymous (loopback)',
  user: null,
  team: null,
  project: null,
  models: undefined,
  rpm: undefined,
  tpm: undefined,
  concurrency: undefined,
  budget: undefined,
};

export const adminPrincipal: Principal = { ...anonymousPrincipal, kind: 'admin', name: 'admin key' };

/** Whether a model name matches one of a key's patterns: exact, `provider/*`, or `*`. */
export function modelAllowed(patterns: readonly string[] | undefined, model: string): boolean {
  if (patterns === undefined) return true;
  for (const pattern of patterns) {
    if (pattern === '*' || pattern === model) return true;
    if (pattern.endsWith('/*') && model.startsWith(pattern.slice(0, -1))) return true;
    // A bare pattern also allows that model through any provider (`gpt-4o` allows `openai/gpt-4o`).
    if (!pattern.includes('/') && model.endsWith(`/${pattern}`)) return true;
  }
  return false;
}
