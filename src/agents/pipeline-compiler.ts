import { parseDefinition } from '../engine/workflow-definition.js';
import type { GuardSource, WorkflowDefinition, WorkflowDefinitionInput } from '../engine/workflow-definition.js';
import type { JsonObject } from '../engine/workflow-instance.js';
import { parseAgentDefinition } from './agent-definition.js';
import { pipelineInputSchema } from './pipeline-input.js';
import type { AgentStep, ParallelStep, PipelineRule, PipelineStep } from './pipeline-input.js';

export interface PipelineCompileOptions {
  /**
   * The agents defined on the server, as written, by id. A step that names one and overrides some of
   * its fields (`provider`, `model`, `prompt`) gets the merged definition inline; a name that is not
   * here is an error. Without this map, names are not checked (they resolve when the step runs).
   */
  agents?: Record<string, Record<string, unknown>>;
}

export interface PipelineIssue {
  path: string;
  message: string;
}

export type PipelineCompileResult =
  { ok: true; definition: WorkflowDefinition; initialData: JsonObject | undefined } | { ok: false; issues: PipelineIssue[] };

type Transition = NonNullable<WorkflowDefinitionInput['transitions']>[number];

/** A rule name (`fact_check_passed`, `review-ok@2`) rather than an expression. */
const ruleName = /^[A-Za-z_][A-Za-z0-9_-]*(@\d+)?$/;

/**
 * Compiles the seed's `createWorkflow({ steps })` and `createWorkflow({ agents })` inputs into an engine
 * workflow definition: a workflow net from `start` to `end` with one automatic transition per step.
 * Multi-agent patterns are net fragments, so the engine's analysis checks them like any net:
 * - a sequence is a chain of places (`<step>_done`) and transitions (`<step>`);
 * - `parallel` is a fork transition (`<id>_fork`) into one branch per entry and a join (`<id>_join`)
 *   whose firing merges the branches' data;
 * - `rules` gate a step: inline rules (CEL or structured) become the step's guard (all must pass);
 *   each named rule adds a gate transition with `{ ref }` as its guard in front of it;
 * - `provider: 'best_available'` (and `model: 'best_available'`) stay on the agent and are mapped by
 *   the runner (docs/agents.md).
 * Pure: it reads nothing but its arguments. Every problem is reported at once.
 */
export function compilePipeline(input: unknown, options: PipelineCompileOptions = {}): PipelineCompileResult {
  const parsed = pipelineInputSchema.safeParse(input);
  if (!parsed.success)
    return { ok: false, issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })) };
  const pipeline = parsed.data;
  const net = new NetBuilder(options);
  const id = pipeline.id ?? pipeline.workflowId;
  if ('steps' in pipeline) net.sequence(pipeline.steps, 'start', 'end', 'steps');
  else
    net.sequence(
      pipeline.agents.map((agent) => agentsFormStep(agent)),
      'start',
      'end',
      'agents',
    );
  if (net.issues.length > 0) return { ok: false, issues: net.issues };
  const definition: WorkflowDefinitionInput = {
    ...(id === undefined ? {} : { id }),
    name: pipeline.name ?? id ?? 'pipeline',
    ...(pipeline.description === undefined ? {} : { description: pipeline.description }),
    places: net.places.map((place) => ({ id: place })),
    transitions: net.transitions,
    start: 'start',
    end: 'end',
    variables: { ...net.variables, ...pipeline.variables },
    metadata: { compiledFrom: 'steps' in pipeline ? 'steps' : 'agents' },
  };
  const checked = parseDefinition(definition);
  if (!checked.ok) return { ok: false, issues: checked.issues };
  return { ok: true, definition: checked.definition, initialData: pipeline.initialData };
}

/** An entry of the `agents: [...]` form as an agent step that defines its agent inline. */
function agentsFormStep(agent: Record<string, unknown>): AgentStep {
  const id = typeof agent['id'] === 'string' ? agent['id'] : undefined;
  return { ...(id === undefined ? {} : { id }), agent };
}

class NetBuilder {
  readonly places: string[] = ['start', 'end'];
  readonly transitions: Transition[] = [];
  readonly issues: PipelineIssue[] = [];
  readonly variables: JsonObject = {};
  private readonly placeIds = new Set<string>(['start', 'end']);
  private readonly transitionIds = new Set<string>();

  constructor(private readonly options: PipelineCompileOptions) {}

  sequence(steps: readonly PipelineStep[], from: string, to: string, path: string): void {
    let current = from;
    steps.forEach((step, index) => {
      const id = this.unique(stepIdOf(step, `step_${index + 1}`));
      const next = index === steps.length - 1 ? to : this.place(`${id}_done`);
      this.step(step, id, current, next, `${path}.${index}`);
      current = next;
    });
  }

  private step(step: PipelineStep, id: string, from: string, to: string, path: string): void {
    const guards = guardsOf(step.rules ?? []);
    let entry = from;
    guards.slice(1).forEach((guard, index) => {
      const gated = this.place(`${id}_gate_${index + 1}`);
      this.transitions.push({ id: this.unique(`${id}_gate_${index + 1}`), inputs: [entry], outputs: [gated], guard });
      entry = gated;
    });
    const guard = guards[0];
    const base = { ...(step.name === undefined ? {} : { name: step.name }), ...(guard === undefined ? {} : { guard }) };
    if ('parallel' in step) return this.parallel(step, id, entry, to, base, path);
    if ('function' in step) {
      Object.assign(this.variables, step.input);
      this.transitions.push({ id, ...base, inputs: [entry], outputs: [to], action: { function: step.function } });
      return;
    }
    const agent = this.agentOf(step, id, path);
    if (agent !== undefined) this.transitions.push({ id, ...base, inputs: [entry], outputs: [to], action: { agent } });
  }

  private parallel(step: ParallelStep, id: string, from: string, to: string, base: Partial<Transition>, path: string): void {
    const starts = step.parallel.map((_, index) => this.place(`${id}_branch_${index + 1}`));
    const ends = step.parallel.map((_, index) => this.place(`${id}_branch_${index + 1}_done`));
    this.transitions.push({ id: this.unique(`${id}_fork`), ...base, inputs: [from], outputs: starts });
    step.parallel.forEach((branch, index) =>
      this.sequence(Array.isArray(branch) ? branch : [branch], starts[index] as string, ends[index] as string, `${path}.parallel.${index}`),
    );
    this.transitions.push({ id: this.unique(`${id}_join`), inputs: ends, outputs: [to] });
  }

  /** The step's action agent: a name, or a definition inline (the step's own, or a defined one with overrides). */
  private agentOf(step: AgentStep, id: string, path: string): string | Record<string, unknown> | undefined {
    const overrides: Record<string, unknown> = {};
    if (step.provider !== undefined) overrides['provider'] = step.provider;
    if (step.model !== undefined) overrides['model'] = step.model;
    if (step.outputKey !== undefined) overrides['outputKey'] = step.outputKey;
    if (step.outputSchema !== undefined) overrides['outputSchema'] = step.outputSchema;
    if (step.temperature !== undefined) overrides['temperature'] = step.temperature;
    if (step.maxTokens !== undefined) overrides['maxTokens'] = step.maxTokens;
    const known = this.options.agents;
    let definition: Record<string, unknown>;
    if (typeof step.agent === 'string') {
      const stored = known?.[step.agent];
      const noOverrides = Object.keys(overrides).length === 0 && step.prompt === undefined && step.system === undefined;
      if (known !== undefined && stored === undefined && (noOverrides || step.prompt === undefined)) {
        this.issues.push({
          path: `${path}.agent`,
          message: `step '${id}' names agent '${step.agent}', which is not defined; define it or give the step a prompt`,
        });
        return undefined;
      }
      if (noOverrides) return step.agent;
      definition = { ...(stored ?? { id: step.agent }), ...overrides };
      if (stored === undefined && definition['outputKey'] === undefined) definition['outputKey'] = id;
    } else definition = { id, ...step.agent, ...overrides };
    if (step.prompt !== undefined) definition = { ...withoutPrompts(definition, 'user'), userTemplate: step.prompt };
    if (step.system !== undefined) definition = { ...withoutPrompts(definition, 'system'), systemPrompt: step.system };
    const checked = parseAgentDefinition(definition);
    if (!checked.ok) {
      for (const issue of checked.issues)
        this.issues.push({ path: `${path}.agent${issue.path ? `.${issue.path}` : ''}`, message: issue.message });
      return undefined;
    }
    return definition;
  }

  private place(name: string): string {
    const id = uniqueIn(this.placeIds, name);
    this.places.push(id);
    return id;
  }

  /** A transition id not taken yet (`draft`, then `draft_2`). */
  private unique(name: string): string {
    return uniqueIn(this.transitionIds, name);
  }
}

function uniqueIn(used: Set<string>, name: string): string {
  let id = name;
  for (let counter = 2; used.has(id); counter++) id = `${name}_${counter}`;
  used.add(id);
  return id;
}

function stepIdOf(step: PipelineStep, fallback: string): string {
  if (step.id !== undefined) return step.id;
  if (step.type !== undefined) return step.type;
  if ('agent' in step && typeof step.agent === 'string') return step.agent;
  if ('function' in step && typeof step.function === 'string') return step.function;
  return fallback;
}

/** Inline rules combined into one guard (first), then one `{ ref }` guard per named rule. */
export function guardsOf(rules: readonly PipelineRule[]): GuardSource[] {
  const inline: GuardSource[] = [];
  const refs: GuardSource[] = [];
  for (const rule of rules) {
    if (typeof rule === 'string') (ruleName.test(rule) ? refs : inline).push(ruleName.test(rule) ? { ref: rule } : rule);
    else if (typeof rule['ref'] === 'string' && Object.keys(rule).length === 1) refs.push({ ref: rule['ref'] });
    else inline.push(rule);
  }
  if (inline.length <= 1) return [...inline, ...refs];
  return [{ and: inline.map((rule) => (typeof rule === 'string' ? { cel: rule } : rule)) }, ...refs];
}

function withoutPrompts(definition: Record<string, unknown>, which: 'user' | 'system'): Record<string, unknown> {
  const copy = { ...definition };
  const prompts =
    typeof copy['prompts'] === 'object' && copy['prompts'] !== null ? { ...(copy['prompts'] as Record<string, unknown>) } : undefined;
  if (which === 'user') {
    delete copy['userTemplate'];
    delete copy['prompt'];
    if (prompts) {
      delete prompts['user_template'];
      delete prompts['userTemplate'];
    }
  } else {
    delete copy['systemPrompt'];
    if (prompts) delete prompts['system'];
  }
  if (prompts) copy['prompts'] = prompts;
  return copy;
}
