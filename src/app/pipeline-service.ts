import { compilePipeline } from '../agents/pipeline-compiler.js';
import { expandPlaceAgents } from '../agents/place-agents.js';
import { ErrorCode, GatewayError, invalidRequest } from '../core/errors.js';
import type { AnalysisReport } from '../engine/analysis-report.js';
import type { WorkflowInstance } from '../engine/workflow-instance.js';
import type { StoredDefinition } from '../storage/workflow-repository.js';
import type { AgentDefinitionRecord } from '../storage/agent-repository.js';
import type { WorkflowService } from './workflow-service.js';

/** Where the pipeline compiler finds the agents defined on the server (`AgentService` is one). */
export interface DefinedAgents {
  list(): Promise<{ record: Pick<AgentDefinitionRecord, 'id' | 'definition'> }[]>;
}

/** How a definition is published: a new workflow, or the next version of `workflowId`. */
export type PublishMode = { kind: 'create' } | { kind: 'version'; workflowId: string };

/** A 422: the analysis refused the net; `report` lists every issue (the API answers it as `analysis`). */
export class WorkflowRefusedError extends GatewayError {
  constructor(readonly report: AnalysisReport) {
    const errors = report.issues.filter((issue) => issue.severity === 'error');
    super(ErrorCode.workflowInvalid, `The workflow cannot be published:\n- ${errors.map((issue) => issue.message).join('\n- ')}`, {
      status: 422,
    });
  }
}

/** True when `input` is the seed's `createWorkflow` form: it has `steps` or `agents` (a list). */
export function isPipelineInput(input: unknown): boolean {
  if (input === null || typeof input !== 'object') return false;
  const source = input as { steps?: unknown; agents?: unknown };
  return Array.isArray(source.steps) || Array.isArray(source.agents);
}

/** True when a plain definition has a place that carries an `agent`. */
export function hasPlaceAgents(input: unknown): boolean {
  if (input === null || typeof input !== 'object') return false;
  const places = (input as { places?: unknown }).places;
  return Array.isArray(places) && places.some((place) => place !== null && typeof place === 'object' && 'agent' in place);
}

/** What publishing a pipeline or a definition with place agents gives back. */
export interface PublishedPipeline {
  record: StoredDefinition;
  report: AnalysisReport;
  /** Started when the input carried `initialData`. */
  instance: WorkflowInstance | undefined;
}

/**
 * Multi-agent workflows as the seed writes them, on top of the engine: `createWorkflow({ steps })` and
 * `createWorkflow({ agents })` compile to nets (`agents/pipeline-compiler.ts`) over the agents defined
 * here, are published through the workflow catalog (analysis included) and, with `initialData`, start
 * an instance at once. `publish` accepts a plain definition whose places may carry agents
 * (`agents/place-agents.ts`). Invalid input is a 400 listing every problem; a net the analysis
 * refuses is a 422 with the report.
 */
export class PipelineService {
  constructor(
    private readonly agents: DefinedAgents,
    private readonly workflows: WorkflowService,
  ) {}

  /**
   * Compiles, publishes and (with `initialData`) starts a pipeline. `rules` are named rules to inline;
   * `versionIfExists` publishes the next version when the pipeline's id exists (the CLI's `apply`).
   */
  async create(
    input: unknown,
    options: { rules?: Record<string, string | Record<string, unknown>>; versionIfExists?: boolean } = {},
  ): Promise<PublishedPipeline> {
    const defined = Object.fromEntries((await this.agents.list()).map(({ record }) => [record.id, record.definition]));
    const compiled = compilePipeline(input, { agents: defined, ...(options.rules ? { rules: options.rules } : {}) });
    if (!compiled.ok) throw problems('The pipeline is invalid', compiled.issues);
    const id = compiled.definition.id;
    const exists = options.versionIfExists === true && id !== undefined && (await this.workflows.catalog.versions(id)).length > 0;
    const published = await this.publishChecked(compiled.definition, exists ? { kind: 'version', workflowId: id } : { kind: 'create' });
    const instance = compiled.initialData
      ? await this.workflows.startInstance(published.record.workflowId, { initialData: compiled.initialData })
      : undefined;
    return { ...published, instance };
  }

  /** Publishes a workflow definition (a new workflow by default), expanding agents on places first. */
  async publish(definition: unknown, mode: PublishMode = { kind: 'create' }): Promise<PublishedPipeline> {
    const expanded = expandPlaceAgents(definition);
    if (!expanded.ok) throw problems('The place agents are invalid', expanded.issues);
    return { ...(await this.publishChecked(expanded.definition, mode)), instance: undefined };
  }

  private async publishChecked(definition: unknown, mode: PublishMode): Promise<Omit<PublishedPipeline, 'instance'>> {
    const result = await this.workflows.catalog.publish(definition, mode);
    if (!result.ok) throw new WorkflowRefusedError(result.report);
    return { record: result.record, report: result.report };
  }
}

function problems(title: string, issues: readonly { path: string; message: string }[]) {
  return invalidRequest(
    `${title}:\n- ${issues.map((issue) => `${issue.path || '(input)'}: ${issue.message}`).join('\n- ')}`,
    issues[0]?.path,
  );
}
