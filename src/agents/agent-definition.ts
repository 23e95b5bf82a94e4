import { z } from 'zod';
import { compileOutputSchema } from './output-schema.js';

/**
 * An agent as users write it (YAML, JSON, the API, or the seed's `agents: [...]` form): who it is, which
 * model it calls, its prompts, its sampling settings, optional tools and output schema, and how it
 * retries. The schema normalises the seed's spelling (`prompts.system`, `prompts.user_template`,
 * `provider`) into one shape (docs/agents.md).
 */

/** Agent ids: letters, digits, `_` and `-` (they appear in event-bus topics and ledger columns). */
export const agentIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const agentIdSchema = z
  .string()
  .regex(agentIdPattern, 'use letters, digits, _ and - (up to 128 characters, starting with a letter or digit)');

/** The model names with a meaning of their own: `auto` (the router picks) and `best_available` (see `modelChoiceOf`). */
export const bestAvailable = 'best_available';

const toolSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'tool names are 1–64 letters, digits, _ or -'),
  description: z.string().optional(),
  /** JSON schema of the arguments. */
  parameters: z.record(z.string(), z.unknown()).optional(),
});

/** Retries of one agent run: `attempts` in all (1 = no retry), waiting `backoffMs × multiplier^n`, at most `maxBackoffMs`. */
export const retryPolicySchema = z.strictObject({
  attempts: z.number().int().min(1).max(10).default(3),
  backoffMs: z.number().int().min(0).max(60_000).default(500),
  multiplier: z.number().min(1).max(10).default(2),
  maxBackoffMs: z.number().int().min(0).max(300_000).default(8_000),
});

const promptsSchema = z.strictObject({
  system: z.string().optional(),
  user_template: z.string().optional(),
  userTemplate: z.string().optional(),
});

const agentInputSchema = z.strictObject({
  id: agentIdSchema,
  name: z.string().min(1).optional(),
  role: z.string().min(1).optional(),
  description: z.string().optional(),
  /** A router model name (`gpt-4o`, `openai/gpt-4o`), a virtual model from config, `auto` or `best_available`. */
  model: z.string().min(1).optional(),
  /** The seed's `provider`: a configured provider name that pins the model to it, or `best_available`. */
  provider: z.string().min(1).optional(),
  systemPrompt: z.string().optional(),
  userTemplate: z.string().optional(),
  /** The seed's form of the two prompts. */
  prompts: promptsSchema.optional(),
  /** The seed's `prompt` on a pipeline step: the user template. */
  prompt: z.string().optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().max(1_000_000).optional(),
  tools: z.array(toolSchema).max(128).optional(),
  /** JSON schema the answer must match; asked for with `response_format: json_schema` and validated. */
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  /** Where the output goes in the output token's data (default: the role, else the id). */
  outputKey: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'an output key is a field name: letters, digits, _ and -')
    .optional(),
  retry: retryPolicySchema.optional(),
  /** Milliseconds one attempt may take (default 120 000). */
  timeoutMs: z.number().int().positive().max(3_600_000).optional(),
});

export type AgentDefinitionInput = z.input<typeof agentInputSchema>;
export type RetryPolicy = z.output<typeof retryPolicySchema>;
export type AgentTool = z.output<typeof toolSchema>;

/** A checked agent definition, every default applied. */
export interface AgentDefinition {
  id: string;
  name: string;
  role: string | undefined;
  description: string | undefined;
  model: string;
  provider: string | undefined;
  systemPrompt: string | undefined;
  userTemplate: string;
  temperature: number | undefined;
  maxTokens: number | undefined;
  tools: AgentTool[];
  outputSchema: Record<string, unknown> | undefined;
  outputKey: string;
  retry: RetryPolicy;
  timeoutMs: number;
}

export const defaultTimeoutMs = 120_000;

/** One problem with a definition: where and what. */
export interface AgentDefinitionIssue {
  path: string;
  message: string;
}

export type AgentParseResult = { ok: true; agent: AgentDefinition } | { ok: false; issues: AgentDefinitionIssue[] };

/** Checks and normalises an agent definition. Never throws; every problem is reported at once. */
export function parseAgentDefinition(input: unknown): AgentParseResult {
  const parsed = agentInputSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
    // The cross-field checks too, on what can be read, so one answer lists every problem.
    if (input !== null && typeof input === 'object' && !Array.isArray(input))
      for (const issue of crossFieldIssues(input as AgentDefinitionInput))
        if (!issues.some((known) => known.path === issue.path)) issues.push(issue);
    return { ok: false, issues };
  }
  const raw = parsed.data;
  const issues = crossFieldIssues(raw);
  const userTemplate = userTemplateOf(raw);
  const systemPrompt = raw.systemPrompt ?? raw.prompts?.system;
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    agent: {
      id: raw.id,
      name: raw.name ?? raw.id,
      role: raw.role,
      description: raw.description,
      model: raw.model ?? bestAvailable,
      provider: raw.provider,
      systemPrompt,
      userTemplate: userTemplate as string,
      temperature: raw.temperature,
      maxTokens: raw.maxTokens,
      tools: raw.tools ?? [],
      outputSchema: raw.outputSchema,
      outputKey: raw.outputKey ?? raw.role ?? raw.id,
      retry: retryPolicySchema.parse(raw.retry ?? {}),
      timeoutMs: raw.timeoutMs ?? defaultTimeoutMs,
    },
  };
}

function userTemplateOf(raw: Partial<AgentDefinitionInput>): string | undefined {
  return raw.userTemplate ?? raw.prompts?.userTemplate ?? raw.prompts?.user_template ?? raw.prompt;
}

function crossFieldIssues(raw: Partial<AgentDefinitionInput>): AgentDefinitionIssue[] {
  const issues: AgentDefinitionIssue[] = [];
  const userTemplate = userTemplateOf(raw);
  if (typeof userTemplate !== 'string' || userTemplate.trim() === '')
    issues.push({ path: 'userTemplate', message: 'an agent needs a user template (userTemplate, prompts.user_template or prompt)' });
  if (raw.model === undefined && raw.provider !== bestAvailable)
    issues.push({
      path: 'model',
      message:
        raw.provider === undefined
          ? "name a model (a router model, a virtual model, 'auto' or 'best_available')"
          : `provider '${raw.provider}' needs a model to call on it (or use provider 'best_available')`,
    });
  if (raw.outputSchema !== null && typeof raw.outputSchema === 'object') {
    const compiled = compileOutputSchema(raw.outputSchema);
    if (!compiled.ok) issues.push({ path: 'outputSchema', message: compiled.error });
  }
  return issues;
}

/** How to reach a model, in router terms (the port's implementation turns it into route options). */
export interface ModelChoice {
  /** The model name for the router. */
  model: string;
  /** Rank candidates by health and speed rather than the configured strategy. */
  strategy?: 'performance_first';
}

/**
 * The router request for an agent's model:
 * - `best_available` (as model, or as provider without a model): `auto` — every configured chat model —
 *   ranked `performance_first` (healthy, fast deployments first, failover to the rest);
 * - provider `best_available` with a model: that model on whichever provider serves it, `performance_first`;
 * - provider `P` with model `M`: `P/M` (that provider only);
 * - anything else (a router model, `provider/model`, a virtual model, `auto`): as written.
 */
export function modelChoiceOf(agent: Pick<AgentDefinition, 'model' | 'provider'>): ModelChoice {
  const { model, provider } = agent;
  if (model === bestAvailable) return { model: 'auto', strategy: 'performance_first' };
  if (provider === bestAvailable) return { model, strategy: 'performance_first' };
  if (provider !== undefined && !model.includes('/') && model !== 'auto') return { model: `${provider}/${model}` };
  return { model };
}
