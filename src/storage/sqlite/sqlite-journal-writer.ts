import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/logger.js';
import type { UsageJournalWriter } from '../usage-repository.js';
import { journalWriterSource } from './journal-writer-source.js';
import type { JournalWriterData, JournalWriterReply, JournalWriterRequest } from './journal-writer-source.js';

export interface SqliteJournalWriterOptions {
  /** Rows per transaction in the thread (default 256: a few ms of the database's single write lock). */
  maxRowsPerTransaction?: number;
  /** How long the thread's connection waits for the write lock, ms (default 5,000, as the main connection). */
  busyTimeoutMs?: number;
  /** Deaths of the thread in a row, without a commit between them, after which the writer gives up (default 3). */
  maxRestarts?: number;
}

interface Pending {
  resolve(inserted: number): void;
  reject(error: Error): void;
}

/**
 * Inserts the usage ledger's journal files into a SQLite file from a worker thread with its own
 * better-sqlite3 connection, so the inserts (tens of µs a row: the table's indexes) do not block the
 * event loop; the main thread posts only the file's path. A thread that dies (crash, `terminate`) rejects
 * the call under way (the ledger keeps the file and retries it) and is started again on the next call;
 * after `maxRestarts` deaths in a row `available` turns false and the ledger inserts on the main thread.
 * The thread is unref'd while idle, so an unclosed writer does not keep the process alive.
 */
export class SqliteJournalWriter implements UsageJournalWriter {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private sequence = 0;
  private deaths = 0;
  private closed = false;
  private gaveUp = false;
  private readonly data: JournalWriterData;
  private readonly maxRestarts: number;

  constructor(
    database: string,
    private readonly logger: Logger,
    options: SqliteJournalWriterOptions = {},
  ) {
    this.data = {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      database,
      busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
      maxRowsPerTransaction: options.maxRowsPerTransaction ?? 256,
    };
    this.maxRestarts = options.maxRestarts ?? 3;
  }

  get available(): boolean {
    return !this.gaveUp && !this.closed;
  }

  insertFile(file: string): Promise<number> {
    if (!this.available) return Promise.reject(new Error('the usage writer thread is closed'));
    const worker = this.worker ?? this.start();
    const id = ++this.sequence;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, file } satisfies JournalWriterRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    this.settleAll(new Error('the usage writer thread was closed'));
  }

  private start(): Worker {
    const worker = new Worker(journalWriterSource, { eval: true, workerData: this.data });
    worker.unref();
    worker.on('message', (reply: JournalWriterReply) => {
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) return pending?.reject(new Error(reply.error));
      this.deaths = 0;
      pending?.resolve(reply.inserted);
    });
    worker.on('error', (error) => {
      this.logger.error('usage ledger: the writer thread failed', { error: error.message });
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (this.closed) return;
      this.settleAll(new Error(`the usage writer thread exited (code ${code})`));
      this.deaths++;
      if (this.deaths >= this.maxRestarts) {
        this.gaveUp = true;
        this.logger.error('usage ledger: the writer thread keeps dying; inserting on the main thread from now on', { exits: this.deaths });
      } else
        this.logger.error('usage ledger: the writer thread exited; it is restarted at the next flush, records stay journaled', { code });
    });
    this.worker = worker;
    return worker;
  }

  private settleAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
