import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UsageRecord } from '../usage-repository.js';
import { SqliteJournalWriter } from './sqlite-journal-writer.js';
import { SqliteStore } from './sqlite-store.js';
import { recordingLogger, usageRecord as baseRecord } from '../../../test/support/unit.js';

/** Every column set, so a mapping slip between the worker and the main connection shows. */
const usageRecord = (id: string, overrides: Partial<UsageRecord> = {}): UsageRecord =>
  baseRecord(id, { workflowId: 'wf_1', cacheWriteTokens: 3, reasoningTokens: 7, tags: ['nightly', 'eu'], ...overrides });

interface WriterInternals {
  worker: { terminate(): Promise<number> } | undefined;
  data: { driver: string };
}

const internals = (writer: SqliteJournalWriter) => writer as unknown as WriterInternals;

let directory: string;
let databaseFile: string;
let store: SqliteStore;
const writers: SqliteJournalWriter[] = [];

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'cb-journal-writer-'));
  databaseFile = join(directory, 'gateway.db');
  store = await SqliteStore.open(databaseFile);
});

afterEach(async () => {
  for (const writer of writers.splice(0)) await writer.close();
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

function openWriter(options: ConstructorParameters<typeof SqliteJournalWriter>[2] = {}, logger = recordingLogger().logger) {
  const writer = new SqliteJournalWriter(databaseFile, logger, options);
  writers.push(writer);
  return writer;
}

let files = 0;
function journal(records: readonly UsageRecord[], tail = ''): string {
  const file = join(directory, `${String(++files).padStart(6, '0')}.ndjson`);
  writeFileSync(file, records.map((record) => `${JSON.stringify(record)}\n`).join('') + tail);
  return file;
}

async function stored(): Promise<UsageRecord[]> {
  const records = await store.usage.list({ from: 0, to: Number.MAX_SAFE_INTEGER }, 100_000);
  return records.sort((a, b) => a.id.localeCompare(b.id));
}

describe('SqliteJournalWriter', () => {
  it('inserts a journal file from its thread; the records read back unchanged', async () => {
    const records = [
      usageRecord('r1'),
      usageRecord('r2', {
        costUsd: null,
        ttftMs: null,
        status: 'error',
        httpStatus: 502,
        errorCode: 'upstream_error',
        stream: false,
        tags: [],
      }),
    ];
    const writer = openWriter();
    await expect(writer.insertFile(journal(records))).resolves.toBe(2);
    expect(await stored()).toEqual(records);
  });

  it('writes the same row as the main connection (one column mapping)', async () => {
    const writer = openWriter();
    await writer.insertFile(journal([usageRecord('thread', { requestId: 'same' })]));
    await store.usage.insertBatch([usageRecord('main', { requestId: 'same' })]);
    const database = new Database(databaseFile, { readonly: true });
    try {
      const rows = database.prepare('SELECT * FROM usage_records ORDER BY id').all() as Record<string, unknown>[];
      expect(rows).toHaveLength(2);
      const [main, thread] = rows as [Record<string, unknown>, Record<string, unknown>];
      expect({ ...thread, id: 'main' }).toEqual(main);
    } finally {
      database.close();
    }
  });

  it('is idempotent: a file inserted twice, or holding records already stored, stores each record once', async () => {
    await store.usage.insertBatch([usageRecord('r1')]);
    const writer = openWriter();
    const file = journal([usageRecord('r1'), usageRecord('r2')]);
    await writer.insertFile(file);
    await writer.insertFile(file);
    expect((await stored()).map((record) => record.id)).toEqual(['r1', 'r2']);
  });

  it('skips a torn last line', async () => {
    const good = [usageRecord('r1'), usageRecord('r2')];
    const writer = openWriter();
    await expect(writer.insertFile(journal(good, JSON.stringify(usageRecord('r3')).slice(0, 57)))).resolves.toBe(2);
    expect(await stored()).toEqual(good);
  });

  it('cuts a large file into transactions of maxRowsPerTransaction rows', async () => {
    const records = Array.from({ length: 25 }, (_, index) => usageRecord(`r${String(index).padStart(2, '0')}`));
    const writer = openWriter({ maxRowsPerTransaction: 4 });
    await expect(writer.insertFile(journal(records))).resolves.toBe(25);
    expect((await stored()).map((record) => record.id)).toEqual(records.map((record) => record.id));
  });

  it('rejects when the insert fails (a missing file), and stays usable', async () => {
    const writer = openWriter();
    await expect(writer.insertFile(join(directory, 'gone.ndjson'))).rejects.toThrow(/ENOENT/);
    await expect(writer.insertFile(journal([usageRecord('r1')]))).resolves.toBe(1);
  });

  it('a thread killed mid-way rejects the call, is restarted, and the retried file lands once per record', async () => {
    const records = Array.from({ length: 3_000 }, (_, index) => usageRecord(`r${String(index).padStart(5, '0')}`));
    const file = journal(records);
    const { logger, lines } = recordingLogger();
    const writer = openWriter({ maxRowsPerTransaction: 50 }, logger);
    await writer.insertFile(journal([usageRecord('warm')])); // the thread is up and has prepared its statement
    const call = writer.insertFile(file);
    const reader = new Database(databaseFile, { readonly: true });
    const count = () => (reader.prepare('SELECT count(*) AS n FROM usage_records').get() as { n: number }).n;
    try {
      // Kill it once its first transactions are committed and before its last one, if the timing allows.
      for (let polls = 0; polls < 2_000 && count() <= 1; polls++) await new Promise((resolve) => setTimeout(resolve, 1));
    } finally {
      reader.close();
    }
    await internals(writer).worker?.terminate();
    const outcome = await call.then(
      () => 'committed',
      (error: unknown) => String(error),
    );
    // Killed before its last commit (usually) or just after it: either way the retry is safe.
    if (outcome !== 'committed') {
      expect(outcome).toMatch(/exited/);
      expect(lines).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/writer thread exited/) }));
      expect((await stored()).length).toBeLessThan(records.length + 1);
    }
    await expect(writer.insertFile(file)).resolves.toBe(records.length);
    const ids = (await stored()).map((record) => record.id);
    expect(ids).toHaveLength(records.length + 1);
    expect(new Set(ids).size).toBe(ids.length);
    expect(writer.available).toBe(true);
  });

  it('gives up after maxRestarts deaths in a row (available turns false), logging why', async () => {
    const { logger, lines } = recordingLogger();
    const writer = openWriter({ maxRestarts: 2 }, logger);
    internals(writer).data.driver = join(directory, 'no-such-driver.js');
    const file = journal([usageRecord('r1')]);
    await expect(writer.insertFile(file)).rejects.toThrow(/exited/);
    expect(writer.available).toBe(true);
    await expect(writer.insertFile(file)).rejects.toThrow(/exited/);
    expect(writer.available).toBe(false);
    await expect(writer.insertFile(file)).rejects.toThrow(/closed/);
    expect(lines.map((line) => line.message)).toEqual([
      'usage ledger: the writer thread failed',
      'usage ledger: the writer thread exited; it is restarted at the next flush, records stay journaled',
      'usage ledger: the writer thread failed',
      'usage ledger: the writer thread keeps dying; inserting on the main thread from now on',
    ]);
    expect(lines[0]?.fields?.['error']).toMatch(/Cannot find module/);
  });

  it('close() ends the thread; later calls are refused', async () => {
    const writer = openWriter();
    await writer.insertFile(journal([usageRecord('r1')]));
    await writer.close();
    expect(internals(writer).worker).toBeUndefined();
    expect(writer.available).toBe(false);
    await expect(writer.insertFile(journal([usageRecord('r2')]))).rejects.toThrow(/closed/);
  });

  it('an in-memory store has no writer thread (one thread alone can see it)', async () => {
    const memory = await SqliteStore.open(':memory:');
    try {
      expect(memory.usage.openJournalWriter(recordingLogger().logger)).toBeUndefined();
    } finally {
      await memory.close();
    }
  });
});
