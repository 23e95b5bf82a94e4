import type { ModelInfo } from '../core/models.js';
import type { AgentRepository } from './agent-repository.js';
import type { BudgetRepository } from './budget-repository.js';
import type { FunctionRepository } from './function-repository.js';
import type { GatewayKeyRepository, ProviderKeyRepository } from './key-repository.js';
import type { RuleRepository } from './rule-repository.js';
import type { UsageRepository } from './usage-repository.js';
import type { WorkflowRepository } from './workflow-repository.js';

export type StoreBackend = 'sqlite' | 'postgres' | 'nats';

/**
 * The storage port. Each backend (sqlite, postgres; nats for the workflow engine) implements it and
 * passes the shared contract suite in `test/contract/store.contract.ts`.
 */
export interface Store {
  readonly backend: StoreBackend;
  /** Resolves when the store answers a trivial query; rejects with the reason otherwise. */
  ping(): Promise<void>;
  readonly modelCache: ModelCacheRepository;
  readonly gatewayKeys: GatewayKeyRepository;
  readonly providerKeys: ProviderKeyRepository;
  readonly usage: UsageRepository;
  readonly budgets: BudgetRepository;
  /** Agent definitions and executions. */
  readonly agents: AgentRepository;
  /** Workflow definitions, instances, tokens, event log, outbox and timers (`workflow-repository.ts`). */
  readonly workflows: WorkflowRepository;
  /** Function definitions and executions. */
  readonly functions: FunctionRepository;
  /** Named, versioned rules (guards `{ ref }`); relational even when workflows live on NATS. */
  readonly rules: RuleRepository;
  close(): Promise<void>;
}

/** What providers listed at their last successful discovery, so a restart with the provider down still knows them. */
export interface ModelCacheRepository {
  save(provider: string, models: readonly ModelInfo[], at: number): Promise<void>;
  load(provider: string): Promise<{ models: ModelInfo[]; at: number } | undefined>;
}
