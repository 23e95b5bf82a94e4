import { z } from 'zod';

/**
 * The seed's multi-agent inputs, as `createWorkflow` takes them (docs/agents.md, "Pipelines"):
 *
 * - `steps: [...]`: a sequence of steps, each an agent step (`agent` + optional `provider`, `model`,
 *   `prompt`, `system`), a function step (`function` + optional `input`), or `parallel: [...]` (branches
 *   that run side by side and join); any step may carry `rules` (all must pass before it runs);
 * - `agents: [...]`: agent definitions run one after the other (the content pipeline).
 *
 * `initialData` is the data of the first token when the caller also starts an instance.
 */

const stepIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,100}$/, 'use letters, digits, _ and - (up to 100 characters)');

/** A gate: a rule name (`fact_check_passed`, `review-ok@2`), a CEL expression, or a structured rule. */
export const pipelineRuleSchema = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

const stepBase = {
  /** The seed's step name (`analyze_content`); the transition id unless `id` is given. */
  type: stepIdSchema.optional(),
  id: stepIdSchema.optional(),
  name: z.string().optional(),
  rules: z.array(pipelineRuleSchema).optional(),
};

export const agentStepSchema = z.strictObject({
  ...stepBase,
  /** A defined agent's id, or the id of the agent this step defines inline. */
  agent: z.union([stepIdSchema, z.record(z.string(), z.unknown())]),
  provider: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  prompt: z.string().optional(),
  system: z.string().optional(),
  outputKey: z.string().optional(),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  temperature: z.number().optional(),
  maxTokens: z.number().optional(),
});

export const functionStepSchema = z.strictObject({
  ...stepBase,
  function: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  /** Fixed input of the function: merged into the workflow's variables. */
  input: z.record(z.string(), z.unknown()).optional(),
});

export type AgentStep = z.output<typeof agentStepSchema>;
export type FunctionStep = z.output<typeof functionStepSchema>;
export type ParallelStep = {
  type?: string;
  id?: string;
  name?: string;
  rules?: PipelineRule[];
  parallel: (PipelineStep | PipelineStep[])[];
};
export type PipelineStep = AgentStep | FunctionStep | ParallelStep;
export type PipelineRule = z.output<typeof pipelineRuleSchema>;

export const pipelineStepSchema: z.ZodType<PipelineStep> = z.lazy(() =>
  z.union([
    agentStepSchema,
    functionStepSchema,
    z.strictObject({
      ...stepBase,
      parallel: z.array(z.union([pipelineStepSchema, z.array(pipelineStepSchema).min(1)])).min(2),
    }),
  ]),
);

const workflowHead = {
  /** The workflow id (the seed spells it `workflowId`). */
  id: stepIdSchema.optional(),
  workflowId: stepIdSchema.optional(),
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  initialData: z.record(z.string(), z.unknown()).optional(),
  variables: z.record(z.string(), z.unknown()).optional(),
  /** The seed's `stream: true`: agent events always stream; accepted and ignored. */
  stream: z.boolean().optional(),
};

export const stepsPipelineSchema = z.strictObject({ ...workflowHead, steps: z.array(pipelineStepSchema).min(1) });
export const agentsPipelineSchema = z.strictObject({ ...workflowHead, agents: z.array(z.record(z.string(), z.unknown())).min(1) });

export const pipelineInputSchema = z.union([stepsPipelineSchema, agentsPipelineSchema]);
export type PipelineInput = z.input<typeof pipelineInputSchema>;
