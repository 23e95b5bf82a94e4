import type { ModelInfo } from '../core/models.js';

/**
 * The storage port. Each backend (sqlite now; postgres and nats as the workflow and ledger issues land)
 * implements it and passes `test/contract/store.contract.ts`.
 */
export interface Store {
  readonly backend: 'sqlite' | 'postgres' | 'nats';
  /** Resolves when the store answers a trivial query; rejects with the reason otherwise. */
  ping(): Promise<void>;
  readonly modelCache: ModelCacheRepository;
  close(): Promise<void>;
}

/** What providers listed at their last successful discovery, so a restart with the provider down still knows them. */
export interface ModelCacheRepository {
  save(provider: string, models: readonly ModelInfo[], at: number): Promise<void>;
  load(provider: string): Promise<{ models: ModelInfo[]; at: number } | undefined>;
}
