import type { Logger } from '../core/logger.js';

/** One request as the ledger keeps it: who, where, how much, how it went. */
export interface UsageRecord {
  /** Unique record id (the ledger's idempotency key). */
  id: string;
  /** Epoch ms when the request arrived. */
  at: number;
  requestId: string;
  /** `chat`, `embeddings`, `messages`, … */
  endpoint: string;
  keyId: string | null;
  userId: string | null;
  teamId: string | null;
  projectId: string | null;
  workflowId: string | null;
  instanceId: string | null;
  transitionId: string | null;
  agentId: string | null;
  provider: string | null;
  /** The model the client asked for. */
  requestedModel: string;
  /** The catalog model that answered (`gpt-4o`), when one did. */
  model: string | null;
  /** The upstream model or deployment name. */
  deployment: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** USD; null when the model's price is unknown. */
  costUsd: number | null;
  latencyMs: number;
  ttftMs: number | null;
  status: 'ok' | 'error' | 'client_closed';
  httpStatus: number;
  errorCode: string | null;
  attempts: number;
  stream: boolean;
  tags: string[];
}

export const usageDimensions = ['provider', 'model', 'key', 'user', 'team', 'project', 'workflow', 'status'] as const;
export type UsageDimension = (typeof usageDimensions)[number];

export interface UsageFilter {
  from: number;
  to: number;
  keyId?: string;
  userId?: string;
  projectId?: string;
}

export interface UsageTotals {
  requests: number;
  failed: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMsSum: number;
}

export interface UsageGroup extends UsageTotals {
  /** The dimension's value (`null` when not set, e.g. no workflow). */
  key: string | null;
}

export interface UsageBucket extends UsageTotals {
  /** Bucket start, epoch ms. */
  start: number;
}

export interface UsageRepository {
  /** Inserts records; a record whose id is already stored is skipped (replays are idempotent). */
  insertBatch(records: readonly UsageRecord[]): Promise<void>;
  totals(filter: UsageFilter): Promise<UsageTotals>;
  groupBy(filter: UsageFilter, dimension: UsageDimension): Promise<UsageGroup[]>;
  /** Totals per time bucket of `bucketMs`, oldest first, empty buckets omitted. */
  series(filter: UsageFilter, bucketMs: number): Promise<UsageBucket[]>;
  /** Latency percentiles (0–1) over successful requests, ms; undefined when there are none. */
  latencyPercentiles(filter: UsageFilter, quantiles: readonly number[]): Promise<(number | undefined)[]>;
  /** The records themselves, newest first (at most `limit`). */
  list(filter: UsageFilter, limit: number): Promise<UsageRecord[]>;
  /**
   * A writer that inserts the ledger's journal files off the main thread, when the backend has one (a
   * SQLite file: a worker thread with its own connection); undefined or absent means "insert with
   * `insertBatch` here". The caller closes it.
   */
  openJournalWriter?(logger: Logger): UsageJournalWriter | undefined;
}

/**
 * Inserts closed journal files (one JSON `UsageRecord` a line; an unparseable line, the torn end of a
 * killed write, is skipped) into the store, off the main thread. Inserts are idempotent by record id.
 */
export interface UsageJournalWriter {
  /** False once the writer gave up (its thread kept dying): the caller inserts with `insertBatch` instead. */
  readonly available: boolean;
  /** Inserts the file's records; resolves with their count once committed, rejects when they may not be (retry the file). */
  insertFile(file: string): Promise<number>;
  /** Ends the thread; a call still under way is rejected (its file stays for a retry). */
  close(): Promise<void>;
}
