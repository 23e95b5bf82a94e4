import { toRow } from '../sql/sql-usage-repository.js';

/** What the writer thread is started with (`workerData`). */
export interface JournalWriterData {
  /** Absolute path of better-sqlite3's entry, resolved on the main thread (the thread `require`s it by path). */
  driver: string;
  /** The SQLite database file (already migrated by the main connection). */
  database: string;
  busyTimeoutMs: number;
  /** Rows per transaction: the write lock is held for one chunk, not for a whole journal file. */
  maxRowsPerTransaction: number;
}

/** Main thread → writer thread: insert the records of this closed journal file. */
export interface JournalWriterRequest {
  id: number;
  file: string;
}

/** Writer thread → main thread: committed (`inserted` records read from the file), or why not. */
export type JournalWriterReply = { id: number; inserted: number } | { id: number; error: string };

/**
 * The writer thread's code, run with `new Worker(source, { eval: true })` so it starts the same way under
 * tsx, vitest, `tsc` output and a bundle (no worker file path to resolve). It opens its own connection to
 * the database file (WAL, synchronous=NORMAL, busy_timeout, as `sqlite-store.ts`), prepares the insert
 * once, and answers each request after its last transaction committed. The row mapping is
 * `sql-usage-repository.ts`'s `toRow`, from its source text.
 */
export const journalWriterSource = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const Database = require(workerData.driver);
const toRow = (${toRow.toString()});
const database = new Database(workerData.database);
database.pragma('journal_mode = WAL');
database.pragma('synchronous = NORMAL');
database.pragma('foreign_keys = ON');
database.pragma('busy_timeout = ' + Number(workerData.busyTimeoutMs));
let columns;
let statement;
const insertChunk = database.transaction((rows) => {
  for (const row of rows) statement.run(row);
});

function readRows(file) {
  const rows = [];
  for (const line of readFileSync(file, 'utf8').split('\\n')) {
    if (line.trim() === '') continue;
    let record;
    try {
      record = JSON.parse(line);
    } catch {
      continue; // the torn last line of a killed write: nothing was acknowledged for it
    }
    const row = toRow(record);
    if (columns === undefined) {
      columns = Object.keys(row);
      statement = database.prepare(
        'INSERT INTO usage_records (' + columns.map((column) => '"' + column + '"').join(', ') + ') VALUES (' +
          columns.map(() => '?').join(', ') + ') ON CONFLICT (id) DO NOTHING',
      );
    }
    const values = new Array(columns.length);
    for (let index = 0; index < columns.length; index++) values[index] = row[columns[index]] ?? null;
    rows.push(values);
  }
  return rows;
}

parentPort.on('message', (request) => {
  try {
    const rows = readRows(request.file);
    const size = Math.max(1, Number(workerData.maxRowsPerTransaction));
    for (let start = 0; start < rows.length; start += size) insertChunk.immediate(rows.slice(start, start + size));
    parentPort.postMessage({ id: request.id, inserted: rows.length });
  } catch (error) {
    parentPort.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;
