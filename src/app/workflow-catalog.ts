import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { analyzeDefinition } from '../engine/analysis.js';
import type { AnalysisOptions } from '../engine/analysis.js';
import type { AnalysisReport } from '../engine/analysis-report.js';
import { CompiledWorkflow } from '../engine/compiled-workflow.js';
import type { ActionKind, ActionSpec } from '../engine/workflow-definition.js';
import type { JsonObject } from '../engine/workflow-instance.js';
import type { RuleRegistry } from '../rules/index.js';
import type { StoredDefinition, WorkflowRepository } from '../storage/workflow-repository.js';

/** Ids that would collide with `/api/v1/workflows/<segment>` routes. */
const reservedIds = ['instances', 'check', 'events'];

/** A published version, or the report that kept it out. */
export type PublishResult = { ok: true; record: StoredDefinition; report: AnalysisReport } | { ok: false; report: AnalysisReport };

/**
 * Published workflow definitions: analysis before anything is stored (errors refuse publication),
 * versions 1, 2, 3, ... per workflow id (an instance stays on its version), and compiled definitions
 * cached per version.
 */
export class WorkflowCatalog {
  private readonly compiled = new Map<string, CompiledWorkflow>();
  private readonly checkers = new Map<Exclude<ActionKind, 'none'>, (action: Exclude<ActionSpec, 'none'>) => string[]>();

  constructor(
    private readonly repository: WorkflowRepository,
    private readonly clock: Clock,
    private readonly registry?: RuleRegistry,
  ) {}

  /** Lets the agents or functions layer check the actions of its kind at publish (unknown names, bad inline definitions). */
  registerActionCheck(kind: Exclude<ActionKind, 'none'>, check: (action: Exclude<ActionSpec, 'none'>) => string[]): void {
    this.checkers.set(kind, check);
  }

  /** Analyses a definition without publishing it. */
  check(input: unknown): AnalysisReport {
    return analyzeDefinition(input, this.analysisOptions()).report;
  }

  /**
   * Publishes `input` as a new workflow (`mode: 'create'`: refused with 409 when the id exists) or as the
   * next version of an existing one (`mode: 'version'`: 404 when it does not exist).
   */
  async publish(input: unknown, mode: { kind: 'create' } | { kind: 'version'; workflowId: string }): Promise<PublishResult> {
    const withId = mode.kind === 'version' && isObject(input) ? { ...input, id: mode.workflowId } : input;
    const analysed = analyzeDefinition(withId, this.analysisOptions());
    if (!analysed.definition || !analysed.report.ok) return { ok: false, report: analysed.report };
    const definition = analysed.definition;
    const workflowId =
      definition.id ??
      `wf_${randomBytes(9)
        .toString('base64url')
        .replace(/[^A-Za-z0-9]/g, 'x')}`;
    if (reservedIds.includes(workflowId)) {
      throw new GatewayError(
        ErrorCode.invalidRequest,
        `'${workflowId}' cannot be a workflow id: it is a path of the API (${reservedIds.join(', ')} are reserved).`,
        { status: 400, param: 'id' },
      );
    }
    const latest = await this.repository.getDefinition(workflowId);
    if (mode.kind === 'create' && latest) {
      throw new GatewayError(
        ErrorCode.alreadyExists,
        `A workflow with id '${workflowId}' exists (version ${latest.version}); publish a new version with PUT /api/v1/workflows/${workflowId}.`,
        { status: 409, param: 'id' },
      );
    }
    if (mode.kind === 'version' && !latest) {
      throw new GatewayError(ErrorCode.notFound, `There is no workflow '${workflowId}'; create it with POST /api/v1/workflows.`, {
        status: 404,
      });
    }
    for (let version = (latest?.version ?? 0) + 1; ; version++) {
      const record: StoredDefinition = {
        workflowId,
        version,
        definition: { ...definition, id: workflowId },
        analysis: analysed.report as unknown as JsonObject,
        createdAt: this.clock.now(),
      };
      const saved = await this.repository.saveDefinition(record);
      if (saved.ok) return { ok: true, record, report: analysed.report };
      if (mode.kind === 'create') {
        throw new GatewayError(ErrorCode.alreadyExists, `A workflow with id '${workflowId}' was just created by another request.`, {
          status: 409,
          param: 'id',
        });
      }
    }
  }

  async get(workflowId: string, version?: number): Promise<StoredDefinition> {
    const record = await this.repository.getDefinition(workflowId, version);
    if (!record) {
      const what = version === undefined ? `no workflow '${workflowId}'` : `no version ${version} of workflow '${workflowId}'`;
      throw new GatewayError(ErrorCode.notFound, `There is ${what}; GET /api/v1/workflows lists the published ones.`, { status: 404 });
    }
    return record;
  }

  list(): Promise<StoredDefinition[]> {
    return this.repository.listDefinitions();
  }

  versions(workflowId: string): Promise<StoredDefinition[]> {
    return this.repository.listVersions(workflowId);
  }

  /** The compiled definition of one version (cached: versions never change). */
  async compiledFor(workflowId: string, version: number): Promise<CompiledWorkflow> {
    const key = `${workflowId}@${version}`;
    const cached = this.compiled.get(key);
    if (cached) return cached;
    const record = await this.get(workflowId, version);
    const compiled = new CompiledWorkflow(record.definition, this.registry);
    this.compiled.set(key, compiled);
    return compiled;
  }

  private analysisOptions(): AnalysisOptions {
    const options: AnalysisOptions = {};
    if (this.registry) options.registry = this.registry;
    if (this.checkers.size > 0) {
      options.checkAction = (action) => this.checkers.get('agent' in action ? 'agent' : 'function')?.(action) ?? [];
    }
    return options;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
