import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import type { UsageJournalWriter, UsageRecord, UsageRepository } from '../storage/usage-repository.js';

export interface LedgerOptions {
  /** Directory of the journal files (under the data directory). */
  journalDir: string;
  /** How often queued records are written to the store, ms (default 250). */
  flushIntervalMs?: number;
  /** Records kept in memory for the next flush; beyond it they are re-read from their journal file (default 50,000). */
  maxQueuedRecords?: number;
}

interface Segment {
  file: string;
  fd: number | undefined;
  /** The segment's records, or null when they were let go from memory and must be re-read from the file. */
  records: UsageRecord[] | null;
  count: number;
}

/**
 * The usage ledger: one record per request, written to the store off the hot path, in batches.
 *
 * `record()` appends the record as one JSON line to a journal file (a single `write` into the OS page
 * cache, microseconds) before the caller finishes the response, so a `kill -9` right after a completed
 * response loses nothing: at the next start, journal files left behind are replayed into the store
 * (inserts are idempotent by record id). Every `flushIntervalMs` the current journal segment is closed,
 * its records are inserted in one batch, and the file is deleted. If the store is down, segments wait
 * and are retried; memory stays bounded because records beyond `maxQueuedRecords` are dropped from memory
 * and re-read from their file when the store is back. The journal is not fsync'd: it survives a crash of
 * the process, not of the machine (the store's own durability covers flushed records).
 *
 * When the repository offers a journal writer (a SQLite file: `openJournalWriter`), a flush hands the
 * closed segment's file to it — a worker thread that reads and inserts it with its own connection — and
 * deletes the file once the thread acknowledged the commit; segments then keep no records in memory.
 * If the writer gives up (its thread keeps dying), flushes insert on the main thread again.
 */
export class UsageLedger {
  private readonly segments: Segment[] = [];
  private current: Segment | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private sequence = 0;
  private queued = 0;
  private failures = 0;
  private readonly flushIntervalMs: number;
  private readonly maxQueued: number;
  private writer: UsageJournalWriter | undefined;

  private constructor(
    private readonly repository: UsageRepository,
    private readonly logger: Logger,
    private readonly options: LedgerOptions,
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxQueued = options.maxQueuedRecords ?? 50_000;
  }

  /** Opens the ledger, replaying journal files a previous process left behind (crash recovery). */
  static async open(repository: UsageRepository, logger: Logger, options: LedgerOptions): Promise<UsageLedger> {
    const ledger = new UsageLedger(repository, logger, options);
    mkdirSync(options.journalDir, { recursive: true });
    const leftovers = readdirSync(options.journalDir)
      .filter((name) => name.endsWith('.ndjson'))
      .sort();
    let replayed = 0;
    for (const name of leftovers) {
      const file = join(options.journalDir, name);
      const records = readJournal(file);
      await repository.insertBatch(records);
      unlinkSync(file);
      replayed += records.length;
    }
    if (replayed > 0)
      logger.info('usage ledger: replayed records a previous run had not flushed', { records: replayed, files: leftovers.length });
    ledger.writer = repository.openJournalWriter?.(logger);
    ledger.timer = setInterval(() => void ledger.flush(), ledger.flushIntervalMs);
    ledger.timer.unref();
    return ledger;
  }

  /** Journals the record (synchronously) and queues it for the next batch. */
  record(record: UsageRecord): void {
    const segment = this.current ?? this.openSegment();
    writeSync(segment.fd as number, `${JSON.stringify(record)}\n`);
    segment.count++;
    if (segment.records === null) return; // the writer thread reads the file
    segment.records.push(record);
    if (++this.queued > this.maxQueued) this.release();
  }

  /** Records journaled but not yet in the store. */
  get queueDepth(): number {
    return this.segments.reduce((sum, segment) => sum + segment.count, 0);
  }

  /** Writes everything journaled so far to the store (one flush at a time; concurrent callers share it). */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.flushSegments().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Stops the timer, flushes what is left (graceful shutdown) and ends the writer thread, if any. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.flush();
      if (this.flushing) await this.flushing;
    } finally {
      await this.writer?.close();
    }
  }

  private async flushSegments(): Promise<void> {
    if (this.current) {
      closeSync(this.current.fd as number);
      this.current.fd = undefined;
      this.current = undefined;
    }
    // Only closed segments: records that arrive while a batch is being written go to a new segment,
    // which the next flush takes (flushing it now would drop what is appended to it meanwhile).
    while (this.segments.length > 0 && this.segments[0] !== this.current) {
      const segment = this.segments[0] as Segment;
      try {
        if (this.writer?.available) await this.writer.insertFile(segment.file);
        else await this.repository.insertBatch(segment.records ?? readJournal(segment.file));
      } catch (error) {
        if (this.failures++ % 40 === 0)
          this.logger.error('usage ledger: cannot write to the store; records stay journaled and are retried', {
            queued: this.queueDepth,
            error: error instanceof Error ? error.message : String(error),
          });
        return;
      }
      this.failures = 0;
      this.segments.shift();
      if (segment.records) this.queued -= segment.records.length;
      if (existsSync(segment.file)) unlinkSync(segment.file);
    }
  }

  private openSegment(): Segment {
    const file = join(
      this.options.journalDir,
      `${Date.now().toString().padStart(15, '0')}-${process.pid}-${String(++this.sequence).padStart(6, '0')}.ndjson`,
    );
    // With a writer thread the file is the only copy the flush needs: nothing is kept in memory.
    const segment: Segment = { file, fd: openSync(file, 'a'), records: this.writer?.available ? null : [], count: 0 };
    this.segments.push(segment);
    this.current = segment;
    return segment;
  }

  /** Lets the oldest in-memory segments go (their files stay) until the queue is back under its bound. */
  private release(): void {
    for (const segment of this.segments) {
      if (this.queued <= this.maxQueued / 2) return;
      if (segment === this.current || !segment.records) continue;
      this.queued -= segment.records.length;
      segment.records = null;
    }
  }
}

/** The records of a journal file; a torn last line (the process died mid-write) is skipped. */
function readJournal(file: string): UsageRecord[] {
  const records: UsageRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as UsageRecord);
    } catch {
      // A partial line can only be the last one, written when the process was killed; nothing was acknowledged for it.
    }
  }
  return records;
}
