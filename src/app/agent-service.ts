import { AgentActionExecutor } from '../agents/agent-action-executor.js';
import { parseAgentDefinition } from '../agents/agent-definition.js';
import type { AgentDefinition } from '../agents/agent-definition.js';
import type { AgentModelPort } from '../agents/agent-model-port.js';
import { AgentRunner } from '../agents/agent-runner.js';
import type { AgentRunResult, Sleep } from '../agents/agent-runner.js';
import type { TemplateScope } from '../agents/prompt-template.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError, invalidRequest } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AgentDefinitionRecord, AgentExecutionFilter, AgentExecutionRecord, AgentRepository } from '../storage/agent-repository.js';
import type { EventBus } from '../streaming/event-bus.js';

export interface AgentServiceDeps {
  repository: AgentRepository;
  models: AgentModelPort;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  sleep?: Sleep;
}

/** A stored agent with its checked form. */
export interface StoredAgent {
  record: AgentDefinitionRecord;
  agent: AgentDefinition;
}

/**
 * The agents use case every front door shares: define agents (checked, versioned), read and delete
 * them, query their executions, run one outside a workflow (a try-out), and the engine's executor for
 * `agent` actions (`executor`, registered by the workflow runtime under the `agent` kind).
 */
export class AgentService {
  readonly runner: AgentRunner;
  readonly executor: AgentActionExecutor;
  private readonly cache = new Map<string, { version: number; agent: AgentDefinition }>();

  constructor(private readonly deps: AgentServiceDeps) {
    this.runner = new AgentRunner({
      models: deps.models,
      executions: deps.repository,
      events: deps.events,
      clock: deps.clock,
      logger: deps.logger,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    });
    this.executor = new AgentActionExecutor(this.runner, (id) => this.resolve(id));
  }

  /** Checks and stores a definition (a new version when it changed). 400 with every issue when it is invalid. */
  async define(input: unknown): Promise<StoredAgent> {
    const agent = checked(input);
    const record = await this.deps.repository.saveDefinition(agent.id, input as Record<string, unknown>, this.deps.clock.now());
    this.cache.set(agent.id, { version: record.version, agent });
    return { record, agent };
  }

  async get(id: string): Promise<StoredAgent | undefined> {
    const record = await this.deps.repository.getDefinition(id);
    if (!record) return undefined;
    return { record, agent: this.parsedOf(record) };
  }

  async list(): Promise<StoredAgent[]> {
    const records = await this.deps.repository.listDefinitions();
    return records.map((record) => ({ record, agent: this.parsedOf(record) }));
  }

  /** Deletes a definition; 404 when there is none. Executions stay. */
  async delete(id: string): Promise<void> {
    this.cache.delete(id);
    if (!(await this.deps.repository.deleteDefinition(id)))
      throw new GatewayError(ErrorCode.notFound, `There is no agent '${id}'.`, { status: 404 });
  }

  /** The stored agent's checked form, for the executor and the pipeline compiler. */
  async resolve(id: string): Promise<AgentDefinition | undefined> {
    return (await this.get(id))?.agent;
  }

  /** Executions, newest first (the `agentExecutions` query). */
  agentExecutions(filter: AgentExecutionFilter = {}): Promise<AgentExecutionRecord[]> {
    return this.deps.repository.listExecutions(filter);
  }

  agentExecution(id: string): Promise<AgentExecutionRecord | undefined> {
    return this.deps.repository.getExecution(id);
  }

  /** Runs a stored (by id) or inline agent on `scope`, outside any workflow: recorded, attributed to the agent only. */
  async tryOut(agent: string | Record<string, unknown>, scope: TemplateScope, signal?: AbortSignal): Promise<AgentRunResult> {
    const definition = typeof agent === 'string' ? await this.resolve(agent) : checked(agent);
    if (!definition) throw new GatewayError(ErrorCode.notFound, `There is no agent '${String(agent)}'.`, { status: 404 });
    return this.runner.run({ agent: definition, scope, ...(signal ? { signal } : {}) });
  }

  private parsedOf(record: AgentDefinitionRecord): AgentDefinition {
    const cached = this.cache.get(record.id);
    if (cached && cached.version === record.version) return cached.agent;
    const agent = checked(record.definition);
    this.cache.set(record.id, { version: record.version, agent });
    return agent;
  }
}

function checked(input: unknown): AgentDefinition {
  const parsed = parseAgentDefinition(input);
  if (parsed.ok) return parsed.agent;
  const lines = parsed.issues.map((issue) => `${issue.path || '(definition)'}: ${issue.message}`);
  throw invalidRequest(`The agent definition is invalid:\n- ${lines.join('\n- ')}`, parsed.issues[0]?.path);
}
