import { compilePipeline } from '../agents/pipeline-compiler.js';
import { expandPlaceAgents } from '../agents/place-agents.js';
import { ErrorCode, GatewayError, invalidRequest } from '../core/errors.js';
import type { AnalysisReport } from '../engine/analysis-report.js';
import type { WorkflowInstance } from '../engine/workflow-instance.js';
import type { StoredDefinition } from '../storage/workflow-repository.js';
import type { AgentService } from './agent-service.js';
import type { WorkflowService } from './workflow-service.js';

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
    private readonly agents: AgentService,
    private readonly workflows: WorkflowService,
  ) {}

  /** Compiles, publishes and (with `initialData`) starts a pipeline. `rules` are named rules to inline. */
  async create(input: unknown, options: { rules?: Record<string, string | Record<string, unknown>> } = {}): Promise<PublishedPipeline> {
    const defined = Object.fromEntries((await this.agents.list()).map(({ record }) => [record.id, record.definition]));
    const compiled = compilePipeline(input, { agents: defined, ...(options.rules ? { rules: options.rules } : {}) });
    if (!compiled.ok) throw problems('The pipeline is invalid', compiled.issues);
    const published = await this.publishChecked(compiled.definition);
    const instance = compiled.initialData
      ? await this.workflows.startInstance(published.record.workflowId, { initialData: compiled.initialData })
      : undefined;
    return { ...published, instance };
  }

  /** Publishes a workflow definition (a new workflow), expanding agents on places first. */
  async publish(definition: unknown): Promise<PublishedPipeline> {
    const expanded = expandPlaceAgents(definition);
    if (!expanded.ok) throw problems('The place agents are invalid', expanded.issues);
    return { ...(await this.publishChecked(expanded.definition)), instance: undefined };
  }

  private async publishChecked(definition: unknown): Promise<Omit<PublishedPipeline, 'instance'>> {
    const result = await this.workflows.catalog.publish(definition, { kind: 'create' });
    if (!result.ok) {
      const errors = result.report.issues.filter((issue) => issue.severity === 'error');
      throw new GatewayError(
        ErrorCode.workflowInvalid,
        `The workflow cannot be published:\n- ${errors.map((issue) => issue.message).join('\n- ')}`,
        {
          status: 422,
        },
      );
    }
    return { record: result.record, report: result.report };
  }
}

function problems(title: string, issues: readonly { path: string; message: string }[]) {
  return invalidRequest(
    `${title}:\n- ${issues.map((issue) => `${issue.path || '(input)'}: ${issue.message}`).join('\n- ')}`,
    issues[0]?.path,
  );
}
