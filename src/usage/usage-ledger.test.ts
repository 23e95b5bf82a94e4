import { closeSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { UsageRecord, UsageRepository } from '../storage/usage-repository.js';
import type { Logger } from '../core/logger.js';
import { UsageLedger } from './usage-ledger.js';
import { recordingLogger, usageRecord } from '../../test/support/unit.js';

/** The real repository, with `insertBatch` replaced (to fail, or to wait) and every batch remembered. */
function wrap(inner: UsageRepository, insert?: (records: readonly UsageRecord[]) => Promise<void>) {
  const batches: UsageRecord[][] = [];
  const repository: UsageRepository = {
    insertBatch: async (records) => {
      batches.push([...records]);
      await (insert ? insert(records) : inner.insertBatch(records));
    },
    totals: (filter) => inner.totals(filter),
    groupBy: (filter, dimension) => inner.groupBy(filter, dimension),
    series: (filter, bucketMs) => inner.series(filter, bucketMs),
    latencyPercentiles: (filter, quantiles) => inner.latencyPercentiles(filter, quantiles),
    list: (filter, limit) => inner.list(filter, limit),
  };
  return { repository, batches };
}

/** A repository that is down until `up()`. */
function flaky(inner: UsageRepository) {
  const state = { down: true };
  const wrapped = wrap(inner, async (records) => {
    if (state.down) throw new Error('SQLITE_BUSY: database is locked');
    await inner.insertBatch(records);
  });
  return { ...wrapped, up: () => (state.down = false), down: () => (state.down = true) };
}

interface LedgerInternals {
  timer: NodeJS.Timeout | undefined;
  writer: { close(): Promise<void> } | undefined;
  current: { fd: number | undefined } | undefined;
  segments: { records: UsageRecord[] | null; count: number }[];
}

function internals(ledger: UsageLedger): LedgerInternals {
  return ledger as unknown as LedgerInternals;
}

/** What `kill -9` leaves: no more timer, the journal fd closed by the OS, nothing flushed. */
function crash(ledger: UsageLedger): void {
  const state = internals(ledger);
  clearInterval(state.timer);
  state.timer = undefined;
  if (state.current?.fd !== undefined) closeSync(state.current.fd);
  state.current = undefined;
}

/** Long enough that the timer never flushes during a test: flushes happen when the test says so. */
const manual = 3_600_000;

let directory: string;
let journalDir: string;
let store: SqliteStore;
const opened: UsageLedger[] = [];

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'cb-ledger-'));
  journalDir = join(directory, 'journal');
  store = await SqliteStore.open(join(directory, 'gateway.db'));
});

afterEach(async () => {
  for (const ledger of opened.splice(0)) {
    clearInterval(internals(ledger).timer);
    await internals(ledger).writer?.close();
  }
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

async function openLedger(
  repository: UsageRepository,
  options: { maxQueuedRecords?: number; flushIntervalMs?: number } = {},
  logger?: Logger,
) {
  const ledger = await UsageLedger.open(repository, logger ?? recordingLogger().logger, {
    journalDir,
    flushIntervalMs: manual,
    ...options,
  });
  opened.push(ledger);
  return ledger;
}

async function stored(): Promise<UsageRecord[]> {
  const records = await store.usage.list({ from: 0, to: Number.MAX_SAFE_INTEGER }, 10_000);
  return records.sort((a, b) => a.id.localeCompare(b.id));
}

function journalFiles(): string[] {
  return readdirSync(journalDir).filter((name) => name.endsWith('.ndjson'));
}

describe('UsageLedger', () => {
  it('journals a record synchronously, as one JSON line, before any flush', async () => {
    const ledger = await openLedger(store.usage);
    const record = usageRecord('r1');
    ledger.record(record);
    const files = journalFiles();
    expect(files).toHaveLength(1);
    expect(readFileSync(join(journalDir, files[0] ?? ''), 'utf8')).toBe(`${JSON.stringify(record)}\n`);
    expect(await stored()).toEqual([]);
  });

  it('record → flush → the record is in the repository, unchanged, and its journal file is gone', async () => {
    const ledger = await openLedger(store.usage);
    const records = [usageRecord('r1'), usageRecord('r2', { costUsd: null, status: 'error', httpStatus: 502, stream: false, tags: [] })];
    for (const record of records) ledger.record(record);
    expect(ledger.queueDepth).toBe(2);
    await ledger.flush();
    expect(ledger.queueDepth).toBe(0);
    expect(await stored()).toEqual(records);
    expect(journalFiles()).toEqual([]);
  });

  it('writes a flush of several segments in the order they were journaled', async () => {
    const { repository, batches } = wrap(store.usage);
    const ledger = await openLedger(repository);
    ledger.record(usageRecord('a'));
    await ledger.flush();
    ledger.record(usageRecord('b'));
    ledger.record(usageRecord('c'));
    await ledger.flush();
    expect(batches.map((batch) => batch.map((record) => record.id))).toEqual([['a'], ['b', 'c']]);
  });

  it('a flush with nothing journaled does not touch the store', async () => {
    const { repository, batches } = wrap(store.usage);
    const ledger = await openLedger(repository);
    await ledger.flush();
    expect(batches).toEqual([]);
  });

  it('flushes on its own every flushIntervalMs', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { repository, batches } = wrap(store.usage);
      const ledger = await openLedger(repository, { flushIntervalMs: 250 });
      ledger.record(usageRecord('r1'));
      vi.advanceTimersByTime(249);
      expect(batches).toHaveLength(0);
      vi.advanceTimersByTime(1);
      expect(batches.map((batch) => batch.map((record) => record.id))).toEqual([['r1']]);
      await ledger.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('concurrent flushes share one pass over the journal', async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { repository, batches } = wrap(store.usage, async (records) => {
      await gate;
      await store.usage.insertBatch(records);
    });
    const ledger = await openLedger(repository);
    ledger.record(usageRecord('r1'));
    const first = ledger.flush();
    const second = ledger.flush();
    open();
    await Promise.all([first, second]);
    expect(batches).toHaveLength(1);
    expect((await stored()).map((record) => record.id)).toEqual(['r1']);
  });

  it('a record made while a flush is writing to the store is not lost', async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { repository } = wrap(store.usage, async (records) => {
      await gate;
      await store.usage.insertBatch(records);
    });
    const ledger = await openLedger(repository);
    ledger.record(usageRecord('before'));
    const flushing = ledger.flush();
    ledger.record(usageRecord('during')); // a request finishing while the batch insert is in flight
    open();
    await flushing;
    ledger.record(usageRecord('after'));
    expect(ledger.queueDepth).toBeGreaterThanOrEqual(1); // 'after' at least is still to be written
    await ledger.flush();
    expect((await stored()).map((record) => record.id)).toEqual(['after', 'before', 'during']);
    expect(ledger.queueDepth).toBe(0);
    expect(journalFiles()).toEqual([]);
  });

  it('close() flushes what is left and stops the timer', async () => {
    const ledger = await openLedger(store.usage, { flushIntervalMs: 250 });
    ledger.record(usageRecord('r1'));
    ledger.record(usageRecord('r2'));
    await ledger.close();
    expect((await stored()).map((record) => record.id)).toEqual(['r1', 'r2']);
    expect(ledger.queueDepth).toBe(0);
    expect(internals(ledger).timer).toBeUndefined();
    expect(journalFiles()).toEqual([]);
  });

  it('queueDepth counts every journaled record not yet in the store, across segments', async () => {
    const { repository, up } = flaky(store.usage);
    const ledger = await openLedger(repository);
    expect(ledger.queueDepth).toBe(0);
    ledger.record(usageRecord('r1'));
    await ledger.flush(); // fails: r1 waits in its own segment
    ledger.record(usageRecord('r2'));
    ledger.record(usageRecord('r3'));
    expect(ledger.queueDepth).toBe(3);
    up();
    await ledger.flush();
    expect(ledger.queueDepth).toBe(0);
  });
});

describe('UsageLedger crash recovery', () => {
  it('replays records a previous process journaled but never flushed, then deletes the journal files', async () => {
    const previous = await openLedger(store.usage);
    const records = [usageRecord('r1'), usageRecord('r2'), usageRecord('r3', { keyId: null, tags: ['a', 'b'] })];
    previous.record(records[0] as UsageRecord);
    await previous.flush(); // r1 is in the store already
    previous.record(records[1] as UsageRecord);
    previous.record(records[2] as UsageRecord);
    crash(previous);
    expect(journalFiles()).toHaveLength(1);
    expect((await stored()).map((record) => record.id)).toEqual(['r1']);

    const { logger, lines } = recordingLogger();
    const next = await openLedger(store.usage, {}, logger);
    expect(await stored()).toEqual(records);
    expect(journalFiles()).toEqual([]);
    expect(next.queueDepth).toBe(0);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', fields: { records: 2, files: 1 } }));
  });

  it('replays several journal files, and a record replayed twice is stored once', async () => {
    const previous = await openLedger(flaky(store.usage).repository);
    previous.record(usageRecord('r1'));
    await previous.flush(); // the store is down: r1's segment stays
    previous.record(usageRecord('r2'));
    crash(previous);
    await store.usage.insertBatch([usageRecord('r1')]); // it did reach the store before the crash
    expect(journalFiles()).toHaveLength(2);

    await openLedger(store.usage);
    expect((await stored()).map((record) => record.id)).toEqual(['r1', 'r2']);
    expect(journalFiles()).toEqual([]);
  });

  it('skips a torn last line (the process died mid-write)', async () => {
    mkdirSync(journalDir, { recursive: true });
    const good = [usageRecord('r1'), usageRecord('r2')];
    const torn = JSON.stringify(usageRecord('r3')).slice(0, 57);
    writeFileSync(
      join(journalDir, '000001700000000-4242-000001.ndjson'),
      `${good.map((record) => JSON.stringify(record)).join('\n')}\n${torn}`,
    );
    await openLedger(store.usage);
    expect(await stored()).toEqual(good);
    expect(journalFiles()).toEqual([]);
  });

  it('ignores files in the journal directory that are not journals', async () => {
    mkdirSync(journalDir, { recursive: true });
    writeFileSync(join(journalDir, 'notes.txt'), 'not a journal');
    await openLedger(store.usage);
    expect(readdirSync(journalDir)).toEqual(['notes.txt']);
  });

  it('creates the journal directory when it does not exist', async () => {
    await openLedger(store.usage);
    expect(readdirSync(journalDir)).toEqual([]);
  });
});

describe('UsageLedger when the store fails', () => {
  it('keeps records journaled, logs, and writes them at the next flush once the store is back', async () => {
    const { repository, batches, up } = flaky(store.usage);
    const { logger, lines } = recordingLogger();
    const ledger = await openLedger(repository, {}, logger);
    ledger.record(usageRecord('r1'));
    await expect(ledger.flush()).resolves.toBeUndefined();
    expect(ledger.queueDepth).toBe(1);
    expect(journalFiles()).toHaveLength(1);
    expect(lines.filter((line) => line.level === 'error')).toEqual([
      {
        level: 'error',
        message: 'usage ledger: cannot write to the store; records stay journaled and are retried',
        fields: { queued: 1, error: 'SQLITE_BUSY: database is locked' },
      },
    ]);
    expect(await stored()).toEqual([]);

    up();
    await ledger.flush();
    expect(batches).toHaveLength(2);
    expect((await stored()).map((record) => record.id)).toEqual(['r1']);
    expect(ledger.queueDepth).toBe(0);
    expect(journalFiles()).toEqual([]);
  });

  it('does not log every failed retry (one line per 40 failures)', async () => {
    const { repository } = flaky(store.usage);
    const { logger, lines } = recordingLogger();
    const ledger = await openLedger(repository, {}, logger);
    ledger.record(usageRecord('r1'));
    for (let attempt = 0; attempt < 41; attempt++) await ledger.flush();
    expect(lines.filter((line) => line.level === 'error')).toHaveLength(2);
  });

  it('stops at the first failing segment and keeps later ones in order', async () => {
    const { repository, batches, up } = flaky(store.usage);
    const ledger = await openLedger(repository);
    ledger.record(usageRecord('a'));
    await ledger.flush();
    ledger.record(usageRecord('b'));
    await ledger.flush();
    expect(batches.map((batch) => batch.map((record) => record.id))).toEqual([['a'], ['a']]);
    up();
    await ledger.flush();
    expect(batches.slice(2).map((batch) => batch.map((record) => record.id))).toEqual([['a'], ['b']]);
    expect((await stored()).map((record) => record.id)).toEqual(['a', 'b']);
  });

  it('beyond maxQueuedRecords lets old segments go from memory and re-reads them from their files', async () => {
    const { repository, batches, up } = flaky(store.usage);
    const ledger = await openLedger(repository, { maxQueuedRecords: 4 });
    const first = [usageRecord('a1'), usageRecord('a2'), usageRecord('a3')];
    for (const record of first) ledger.record(record);
    await ledger.flush(); // fails; the segment is closed
    expect(internals(ledger).segments[0]?.records).toHaveLength(3);
    for (const id of ['b1', 'b2', 'b3']) ledger.record(usageRecord(id));
    // 6 queued > 4: the closed segment's records are let go (its file stays), the current one is kept.
    expect(internals(ledger).segments.map((segment) => segment.records?.length ?? null)).toEqual([null, 3]);
    expect(ledger.queueDepth).toBe(6);
    expect(journalFiles()).toHaveLength(2);

    up();
    batches.length = 0;
    await ledger.flush();
    expect(batches[0]).toEqual(first); // read back from the journal file
    expect((await stored()).map((record) => record.id)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
    expect(ledger.queueDepth).toBe(0);
    expect(journalFiles()).toEqual([]);
  });

  it('a let-go segment is re-read from its file on every retry until the store takes it', async () => {
    const { repository, batches, up } = flaky(store.usage);
    const ledger = await openLedger(repository, { maxQueuedRecords: 2 });
    for (const id of ['a1', 'a2']) ledger.record(usageRecord(id));
    await ledger.flush();
    for (const id of ['b1', 'b2']) ledger.record(usageRecord(id));
    expect(internals(ledger).segments[0]?.records).toBeNull();
    await ledger.flush(); // still down
    await ledger.flush();
    expect(batches.slice(1).map((batch) => batch.map((record) => record.id))).toEqual([
      ['a1', 'a2'],
      ['a1', 'a2'],
    ]);
    up();
    await ledger.flush();
    expect((await stored()).map((record) => record.id)).toEqual(['a1', 'a2', 'b1', 'b2']);
  });
});

describe('UsageLedger with the writer thread (a SQLite file)', () => {
  interface ThreadWriter {
    worker: { terminate(): Promise<number> } | undefined;
    gaveUp: boolean;
  }
  const threadOf = (ledger: UsageLedger) => internals(ledger).writer as unknown as ThreadWriter;

  it('hands closed segments to the thread: nothing is kept in memory, the records land, the file goes', async () => {
    const ledger = await openLedger(store.usage);
    expect(internals(ledger).writer).toBeDefined();
    const records = [usageRecord('r1'), usageRecord('r2', { costUsd: null, status: 'client_closed', stream: false })];
    for (const record of records) ledger.record(record);
    expect(internals(ledger).segments.map((segment) => segment.records)).toEqual([null]);
    expect(ledger.queueDepth).toBe(2);
    await ledger.flush();
    expect(await stored()).toEqual(records);
    expect(ledger.queueDepth).toBe(0);
    expect(journalFiles()).toEqual([]);
  });

  it('a thread killed before it commits: the segment stays journaled and the next flush (a new thread) inserts it', async () => {
    const { logger, lines } = recordingLogger();
    const ledger = await openLedger(store.usage, {}, logger);
    ledger.record(usageRecord('r1'));
    ledger.record(usageRecord('r2'));
    const flushing = ledger.flush();
    await threadOf(ledger).worker?.terminate();
    await flushing;
    expect(ledger.queueDepth).toBe(2);
    expect(journalFiles()).toHaveLength(1);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'usage ledger: cannot write to the store; records stay journaled and are retried',
      }),
    );
    ledger.record(usageRecord('r3'));
    await ledger.flush();
    expect((await stored()).map((record) => record.id)).toEqual(['r1', 'r2', 'r3']);
    expect(ledger.queueDepth).toBe(0);
    expect(journalFiles()).toEqual([]);
  });

  it('close() flushes through the thread, then ends it', async () => {
    const ledger = await openLedger(store.usage);
    ledger.record(usageRecord('r1'));
    const thread = threadOf(ledger);
    await ledger.close();
    expect((await stored()).map((record) => record.id)).toEqual(['r1']);
    expect(thread.worker).toBeUndefined();
    expect(journalFiles()).toEqual([]);
  });

  it('once the writer gave up, flushes insert on the main thread, re-reading segments from their files', async () => {
    const ledger = await openLedger(store.usage);
    ledger.record(usageRecord('r1')); // a segment without records in memory
    threadOf(ledger).gaveUp = true;
    await ledger.flush();
    ledger.record(usageRecord('r2')); // a new segment keeps its records again
    expect(internals(ledger).segments.map((segment) => segment.records?.length)).toEqual([1]);
    await ledger.flush();
    expect((await stored()).map((record) => record.id)).toEqual(['r1', 'r2']);
    expect(journalFiles()).toEqual([]);
  });
});
