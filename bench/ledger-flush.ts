// The usage ledger's flush as the event loop sees it: the longest stall of a 1 ms ticker during a
// flush of N records, with the insert on the main thread (the in-thread path every non-file store
// takes) and with the SQLite writer thread; then what handing one segment to a thread costs the main
// thread, by message shape. Run: node --import tsx bench/ledger-flush.ts [--rounds 5]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { silentLogger } from '../src/core/logger.js';
import { toRow } from '../src/storage/sql/sql-usage-repository.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import type { UsageRecord, UsageRepository } from '../src/storage/usage-repository.js';
import { UsageLedger } from '../src/usage/usage-ledger.js';
import { usageRecord as baseRecord } from '../test/support/unit.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 5);
const directory = mkdtempSync(join(tmpdir(), 'cb-ledger-bench-'));

const usageRecord = (): UsageRecord =>
  baseRecord(randomUUID(), { at: Date.now(), userId: null, projectId: null, promptTokens: 10, costUsd: 0.0001, stream: false, tags: [] });

/** The repository without `openJournalWriter`: the ledger inserts on the main thread. */
const inThread = (inner: UsageRepository): UsageRepository => ({
  insertBatch: (records) => inner.insertBatch(records),
  totals: (filter) => inner.totals(filter),
  groupBy: (filter, dimension) => inner.groupBy(filter, dimension),
  series: (filter, bucketMs) => inner.series(filter, bucketMs),
  latencyPercentiles: (filter, quantiles) => inner.latencyPercentiles(filter, quantiles),
  list: (filter, limit) => inner.list(filter, limit),
});

/** Longest gap between 1 ms ticks while `work` runs, the main thread's busy time (event-loop utilisation) and the wall time, ms. */
async function stall(work: () => Promise<void>): Promise<{ maxGapMs: number; busyMs: number; wallMs: number; cpuMs: number }> {
  let last = performance.now();
  let maxGapMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  maxGapMs = 0;
  const start = performance.now();
  const utilisation = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  await work();
  const { user, system } = process.cpuUsage(cpu); // every thread of the process
  const busyMs = performance.eventLoopUtilization(utilisation).active;
  const wallMs = performance.now() - start;
  await new Promise((resolve) => setTimeout(resolve, 5));
  clearInterval(ticker);
  return { maxGapMs, busyMs, wallMs, cpuMs: (user + system) / 1_000 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

try {
  const store = await SqliteStore.open(join(directory, 'bench.db'));
  console.log(
    'flush of N records: longest event-loop stall (median of rounds / max), main thread busy during the flush and flush wall time (medians)',
  );
  const idle: number[] = [];
  for (let round = 0; round < rounds; round++) idle.push((await stall(() => new Promise((resolve) => setTimeout(resolve, 40)))).maxGapMs);
  console.log(
    `  idle (a 40 ms sleep, no flush): stall ${median(idle).toFixed(2)} ms (max ${Math.max(...idle).toFixed(2)}): the machine's noise floor`,
  );
  for (const size of [125, 750, 2_500]) {
    for (const [label, repository] of [
      ['main thread ', inThread(store.usage)],
      ['writer thread', store.usage],
    ] as const) {
      const ledger = await UsageLedger.open(repository, silentLogger, {
        journalDir: join(directory, 'journal'),
        flushIntervalMs: 3_600_000,
      });
      const gaps: number[] = [];
      const walls: number[] = [];
      const busy: number[] = [];
      const cpus: number[] = [];
      for (let round = 0; round <= rounds; round++) {
        for (let index = 0; index < size; index++) ledger.record(usageRecord());
        const { maxGapMs, busyMs, wallMs, cpuMs } = await stall(() => ledger.flush());
        if (round === 0) continue; // warm-up (thread start, statement preparation)
        gaps.push(maxGapMs);
        walls.push(wallMs);
        busy.push(busyMs);
        cpus.push(cpuMs);
      }
      await ledger.close();
      console.log(
        `  ${String(size).padStart(5)} records  ${label}  stall ${median(gaps).toFixed(2).padStart(6)} ms (max ${Math.max(...gaps)
          .toFixed(2)
          .padStart(
            6,
          )})  main thread busy ${median(busy).toFixed(2).padStart(6)} ms  flush ${median(walls).toFixed(2).padStart(6)} ms  process CPU ${((median(cpus) * 1_000) / size).toFixed(1)} µs/record`,
      );
    }
  }
  await store.close();

  // What one segment's hand-off costs the main thread (postMessage clones synchronously).
  const sink = new Worker(`require('node:worker_threads').parentPort.on('message', () => {});`, { eval: true });
  const records = Array.from({ length: 750 }, usageRecord);
  const lines = records.map((record) => `${JSON.stringify(record)}\n`);
  const shapes: [string, () => void][] = [
    ['record objects          ', () => sink.postMessage(records)],
    ['row arrays (toRow here) ', () => sink.postMessage(records.map((record) => Object.values(toRow(record))))],
    ['JSON lines, one string  ', () => sink.postMessage(lines.join(''))],
    ['the journal file path   ', () => sink.postMessage({ id: 1, file: join(directory, 'journal', 'segment.ndjson') })],
  ];
  console.log('hand-off of a 750-record segment to a thread, main-thread µs (median of 50)');
  for (const [label, send] of shapes) {
    const times: number[] = [];
    for (let round = 0; round < 60; round++) {
      const start = performance.now();
      send();
      if (round >= 10) times.push((performance.now() - start) * 1_000);
    }
    console.log(`  ${label} ${median(times).toFixed(1).padStart(8)} µs`);
  }
  await sink.terminate();
} finally {
  rmSync(directory, { recursive: true, force: true });
}
