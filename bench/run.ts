/**
 * The benchmark harness: the gateway beside the direct upstream, the reference proxy and the Portkey
 * gateway, measured in the same run (interleaved rounds, medians), every target from quality.md printed
 * with its value and PASS/FAIL, and a markdown table written to bench/results/<date>.md.
 *
 *   npm run bench              full: 30 s points after 5 s warm-up, 3 interleaved rounds
 *   npm run bench -- --quick   about two minutes: 5 s points, 1 round
 *
 * Needs `wrk` (Debian: apt-get install wrk) and the built server (npm run bench builds it). Everything
 * binds to 127.0.0.1 and every process it starts is stopped at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { closeLoad, fixedRate, median, sequential, timed, wrk } from './load.js';
import type { Target, WrkResult } from './load.js';
import { buildBaseline, entryOf, prepareDataDir, startGateway } from './gateway.js';
import type { GatewayBuild } from './gateway.js';
import { cpuMicros, launch, memory } from './processes.js';
import type { Managed } from './processes.js';
import { soak } from './soak.js';
import type { SoakResult } from './soak.js';

const root = resolve(import.meta.dirname, '..');
const quick = process.argv.includes('--quick');
const skipPortkey = process.argv.includes('--no-portkey');
const seconds = quick ? 5 : 30;
const warmup = quick ? 3 : 5; // JIT: a 1 s warm-up leaves the larger programs (gateway, Portkey) visibly cold
const ports = {
  upstream: 17001,
  anthropic: 17002,
  slow: 17003,
  reference: 17010,
  gateway: 17011,
  baseline: 17012,
  portkey: 17013,
  soak: 17023,
};
const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};
const rounds = Number(option('--rounds') ?? (quick ? 1 : 3));
/** `--soak MIN`: the memory soak's length (the full run's default is 10; 0 skips it); `--soak-only` runs nothing else. */
const soakOnly = process.argv.includes('--soak-only');
const soakMinutes = Number(option('--soak') ?? (quick && !soakOnly ? 0 : 10));
const soakRate = Number(option('--soak-rate') ?? 500);
const current: GatewayBuild = { label: 'gateway', root };
const baselineRef = option('--baseline');
let baseline: GatewayBuild | undefined;
const profileDir = option('--profile') === undefined ? undefined : resolve(option('--profile') as string);
/** `--profile DIR`: the gateway runs with `--cpu-prof`; its profile is written to DIR when it stops. */
const profileArgs = (name: string): string[] =>
  profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
const processes: Managed[] = [];

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function start(): Promise<Record<string, Target>> {
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed: apt-get install wrk (Debian), then run again');
  if (baselineRef) {
    log(`building the baseline ${baselineRef}…`);
    baseline = buildBaseline(root, baselineRef);
  }
  const node = process.execPath;
  processes.push(await launch('upstream', node, [join(root, 'bench/upstream.mjs'), '--port', String(ports.upstream)], {}, /listening/));
  processes.push(
    await launch(
      'upstream-anthropic',
      node,
      [join(root, 'bench/upstream.mjs'), '--port', String(ports.anthropic), '--format', 'anthropic'],
      {},
      /listening/,
    ),
  );
  processes.push(
    await launch(
      'upstream-slow',
      node,
      [join(root, 'bench/upstream.mjs'), '--port', String(ports.slow), '--chunk-interval-ms', '200'],
      {},
      /listening/,
    ),
  );
  const reference = await launch(
    'reference',
    node,
    [join(root, 'bench/reference-proxy.mjs'), String(ports.reference), `http://127.0.0.1:${ports.upstream}`],
    {},
    /listening/,
  );
  processes.push(reference);
  const providers: Record<string, string> = {
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `http://127.0.0.1:${ports.upstream}/v1`,
    ANTHROPIC_API_KEY: 'sk-ant-bench',
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${ports.anthropic}`,
  };
  const gateway = await startGateway(current, 'gateway', ports.gateway, providers, profileArgs('gateway'));
  processes.push(gateway.managed);
  const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
  const targets: Record<string, Target> = {
    direct: { name: 'direct', url: `http://127.0.0.1:${ports.upstream}/v1/chat/completions`, headers: {}, model: 'gpt-4o' },
    reference: {
      name: 'reference',
      url: `http://127.0.0.1:${ports.reference}/v1/chat/completions`,
      headers: {},
      model: 'gpt-4o',
      pid: reference.pid,
    },
    gateway: {
      name: 'gateway',
      url: `http://127.0.0.1:${ports.gateway}/v1/chat/completions`,
      headers: bearer(gateway.key),
      model: 'gpt-4o',
      pid: gateway.managed.pid,
    },
    translated: {
      name: 'translated',
      url: `http://127.0.0.1:${ports.gateway}/v1/chat/completions`,
      headers: bearer(gateway.key),
      model: 'anthropic/claude-3-5-sonnet-latest',
      pid: gateway.managed.pid,
    },
  };
  if (baseline) {
    const before = await startGateway(baseline, 'baseline', ports.baseline, providers);
    processes.push(before.managed);
    targets['baseline'] = {
      name: 'baseline',
      url: `http://127.0.0.1:${ports.baseline}/v1/chat/completions`,
      headers: bearer(before.key),
      model: 'gpt-4o',
      pid: before.managed.pid,
    };
  }
  if (!skipPortkey) {
    const portkeyDir = join(root, 'bench/portkey');
    if (!existsSync(join(portkeyDir, 'node_modules/@portkey-ai/gateway'))) {
      log('installing the Portkey gateway from npm into bench/portkey (once)…');
      execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', portkeyDir], { stdio: 'inherit' });
    }
    const portkey = await launch(
      'portkey',
      node,
      [join(portkeyDir, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${ports.portkey}`, '--headless'],
      {},
      /Ready for connections|localhost:/,
    );
    processes.push(portkey);
    targets['portkey'] = {
      name: 'portkey',
      url: `http://127.0.0.1:${ports.portkey}/v1/chat/completions`,
      headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `http://127.0.0.1:${ports.upstream}/v1` },
      model: 'gpt-4o',
      pid: portkey.pid,
    };
  }
  return targets;
}

interface Point {
  rps: number[];
  cpuPerRequest: number[];
  p99: number[];
  errors: number;
  timeouts: number;
}

async function throughput(targets: Record<string, Target>): Promise<Map<string, Point>> {
  const scenarios = [
    { label: 'c50 JSON', stream: false, connections: 50 },
    { label: 'c50 SSE', stream: true, connections: 50 },
    { label: 'c200 JSON', stream: false, connections: 200 },
    { label: 'c200 SSE', stream: true, connections: 200 },
  ];
  const points = new Map<string, Point>();
  const names = Object.keys(targets);
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) {
      for (const name of [...names, ...(scenario.connections === 50 ? [] : [])]) {
        if (name === 'translated' && scenario.connections === 200) continue;
        const target = targets[name] as Target;
        wrk(target, scenario.stream, scenario.connections, warmup);
        const cpuBefore = target.pid ? cpuMicros(target.pid) : 0;
        const result: WrkResult = wrk(target, scenario.stream, scenario.connections, seconds);
        const cpu = target.pid ? (cpuMicros(target.pid) - cpuBefore) / Math.max(1, result.requests) : Number.NaN;
        const key = `${scenario.label}|${name}`;
        const point = points.get(key) ?? { rps: [], cpuPerRequest: [], p99: [], errors: 0, timeouts: 0 };
        point.rps.push(result.requestsPerSecond);
        point.cpuPerRequest.push(cpu);
        point.p99.push(result.p99Ms);
        point.errors += result.errors;
        point.timeouts += result.timeouts;
        points.set(key, point);
        log(
          `round ${round + 1} ${scenario.label.padEnd(9)} ${name.padEnd(10)} ${result.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  cpu ${cpu.toFixed(0)} µs/req  errors ${result.errors}  timeouts ${result.timeouts}`,
        );
      }
    }
  }
  return points;
}

async function coldStart(): Promise<{ gateway: number; reference: number }> {
  const measure = async (name: string, command: string[], env: Record<string, string>, target: Target): Promise<number> => {
    const samples: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = performance.now();
      const child = await launch(name, process.execPath, command, env, null);
      let elapsed = Number.NaN;
      for (let tries = 0; tries < 400; tries++) {
        const ok = await timed(target, false).then(
          (result) => result.ok,
          () => false,
        );
        if (ok) {
          elapsed = performance.now() - started;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      samples.push(elapsed);
      await child?.stop();
    }
    return median(samples);
  };
  const gatewayPort = 17020;
  const { dataDir, key } = prepareDataDir(current, 'cold');
  const gateway = await measure(
    'gateway-cold',
    [entryOf(current), 'serve'],
    {
      PORT: String(gatewayPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      CB_DATA_DIR: dataDir,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: `http://127.0.0.1:${ports.upstream}/v1`,
    },
    {
      name: 'cold',
      url: `http://127.0.0.1:${gatewayPort}/v1/chat/completions`,
      headers: { authorization: `Bearer ${key}` },
      model: 'gpt-4o',
    },
  );
  const reference = await measure(
    'reference-cold',
    [join(root, 'bench/reference-proxy.mjs'), '17021', `http://127.0.0.1:${ports.upstream}`],
    {},
    { name: 'cold', url: 'http://127.0.0.1:17021/v1/chat/completions', headers: {}, model: 'gpt-4o' },
  );
  return { gateway, reference };
}

/** Memory per open stream, in a fresh gateway process (a process that already served load has a grown heap that hides it). */
async function streamMemory(): Promise<{ idleMb: number; perStreamKb: number; failed: number; seconds: number }> {
  const port = 17022;
  const instance = await startGateway(current, 'gateway-streams', port, { CUSTOM_LLM_ENDPOINT: `http://127.0.0.1:${ports.slow}/v1` });
  const gateway = instance.managed;
  try {
    const target: Target = {
      name: 'slow',
      url: `http://127.0.0.1:${port}/v1/chat/completions`,
      headers: { authorization: `Bearer ${instance.key}` },
      model: 'custom/gpt-4o',
    };
    await timed(target, true); // one stream first, so code paths are loaded before the baseline
    const idle = memory(gateway.pid).rssMb;
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, memory(gateway.pid).rssMb)), 50);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 1000 }, () => timed(target, true).catch(() => ({ ok: false }))));
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const failed = results.filter((result) => !result.ok).length;
    if (failed > 0) log(`warning: ${failed} of the 1,000 slow streams failed`);
    // Each stream lasts ~4 s (20 chunks, 200 ms apart): much longer in all means streams queued instead of running at once.
    log(`1,000 slow streams: ${seconds.toFixed(1)} s in all, peak RSS ${peak.toFixed(0)} MB (idle ${idle.toFixed(0)} MB)`);
    return { idleMb: idle, perStreamKb: ((peak - idle) * 1024) / 1000, failed, seconds };
  } finally {
    await gateway.stop();
  }
}

function verdict(pass: boolean): string {
  return pass ? 'PASS' : 'FAIL';
}

function runSoak(): Promise<SoakResult> {
  log(`memory soak: ${soakMinutes} min at ${soakRate} req/s (half JSON, half SSE)…`);
  return soak({
    build: current,
    port: ports.soak,
    upstreamUrl: `http://127.0.0.1:${ports.upstream}/v1`,
    minutes: soakMinutes,
    rate: soakRate,
    log,
  });
}

function soakRows(result: SoakResult): { rows: { name: string; measured: string; goal: string; pass: boolean }[]; detail: string } {
  return {
    rows: [
      {
        name: `RSS growth over a ${result.minutes}-minute soak (${result.rate} req/s)`,
        measured: `${(result.growth * 100).toFixed(1)} % (${result.baselineMb.toFixed(1)} → ${result.finalMb.toFixed(1)} MB)`,
        goal: '≤ 10 %',
        pass: result.growth <= 0.1,
      },
      { name: 'soak errors', measured: String(result.errors), goal: '0', pass: result.errors === 0 },
    ],
    detail: `Soak: RSS every 10 s ${result.samplesMb.map((value) => value.toFixed(0)).join(' ')} MB; growth is the last minute's median against the second minute's.`,
  };
}

/** `--soak-only`: the upstream and a fresh gateway, the soak, a results file of its own. */
async function soakAlone(): Promise<void> {
  processes.push(
    await launch('upstream', process.execPath, [join(root, 'bench/upstream.mjs'), '--port', String(ports.upstream)], {}, /listening/),
  );
  const { rows, detail } = soakRows(await runSoak());
  const lines = [
    `# Memory soak ${new Date().toISOString()}`,
    '',
    `Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\`. A fresh gateway in the realistic configuration (a gateway key, the ledger, metrics), a fixed arrival rate, half JSON and half SSE requests. Machine: ${spawnSync('nproc').stdout.toString().trim()} cores, Node ${process.version}.`,
    '',
    '| target | measured | goal | verdict |',
    '|---|---|---|---|',
    ...rows.map((row) => `| ${row.name} | ${row.measured} | ${row.goal} | ${verdict(row.pass)} |`),
    '',
    detail,
    '',
  ];
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const file = join(root, `bench/results/${new Date().toISOString().slice(0, 16).replace('T', '_').replace(':', '')}-soak.md`);
  writeFileSync(file, lines.join('\n'));
  log(`\n${lines.join('\n')}\nwritten to ${file}`);
}

async function main(): Promise<void> {
  if (soakOnly) {
    await soakAlone();
    return;
  }
  const targets = await start();
  const gatewayPid = targets['gateway']?.pid as number;
  const idleRss = memory(gatewayPid).rssMb;
  log(`gateway idle RSS ${idleRss.toFixed(1)} MB`);
  const points = await throughput(targets);
  const seqDirect = await sequential(targets['direct'] as Target, quick ? 300 : 2000, false);
  const seqGateway = await sequential(targets['gateway'] as Target, quick ? 300 : 2000, false);
  const ttftDirect = await sequential(targets['direct'] as Target, quick ? 200 : 1000, true);
  const ttftGateway = await sequential(targets['gateway'] as Target, quick ? 200 : 1000, true);
  const rate = 500;
  const fixedDirect = await fixedRate(targets['direct'] as Target, rate, quick ? 5 : 20);
  const fixedGateway = await fixedRate(targets['gateway'] as Target, rate, quick ? 5 : 20);
  const streams = await streamMemory();
  const cold = await coldStart();
  const peakRss = memory(gatewayPid).peakMb;
  const soaked = soakMinutes > 0 ? soakRows(await runSoak()) : undefined;

  const value = (scenario: string, name: string, pick: (point: Point) => number[]): number => {
    const point = points.get(`${scenario}|${name}`);
    return point ? median(pick(point)) : Number.NaN;
  };
  const rows: string[][] = [];
  const columns = ['direct', 'reference', 'gateway', ...(baseline ? ['baseline'] : []), 'translated', 'portkey'];
  const targetRows: { name: string; measured: string; goal: string; pass: boolean }[] = [];
  for (const scenario of ['c50 JSON', 'c50 SSE', 'c200 JSON', 'c200 SSE']) {
    const gateway = value(scenario, 'gateway', (point) => point.rps);
    const reference = value(scenario, 'reference', (point) => point.rps);
    const portkey = value(scenario, 'portkey', (point) => point.rps);
    rows.push([
      scenario,
      ...columns.map((name) => {
        const rps = value(scenario, name, (point) => point.rps);
        const cpu = value(scenario, name, (point) => point.cpuPerRequest);
        return Number.isNaN(rps) ? '—' : `${rps.toFixed(0)}${Number.isNaN(cpu) ? '' : ` (${cpu.toFixed(0)} µs)`}`;
      }),
    ]);
    const share = scenario.includes('SSE') ? 0.7 : 0.75;
    targetRows.push({
      name: `throughput ${scenario} vs reference`,
      measured: `${((gateway / reference) * 100).toFixed(0)} %`,
      goal: `≥ ${share * 100} %`,
      pass: gateway / reference >= share,
    });
    if (!Number.isNaN(portkey))
      targetRows.push({
        name: `throughput ${scenario} vs Portkey`,
        measured: `${(gateway / portkey).toFixed(1)}×`,
        goal: '≥ 7×',
        pass: gateway / portkey >= 7,
      });
  }
  const cpuJson = value('c50 JSON', 'gateway', (point) => point.cpuPerRequest);
  const cpuTranslated = value('c50 JSON', 'translated', (point) => point.cpuPerRequest);
  targetRows.push({
    name: 'CPU per request, JSON passthrough (c50)',
    measured: `${cpuJson.toFixed(0)} µs`,
    goal: '≤ 110 µs',
    pass: cpuJson <= 110,
  });
  targetRows.push({
    name: 'CPU per request, translated / passthrough',
    measured: `${(cpuTranslated / cpuJson).toFixed(2)}×`,
    goal: '≤ 1.6×',
    pass: cpuTranslated / cpuJson <= 1.6,
  });
  const addedP50 = fixedGateway.p50Ms - fixedDirect.p50Ms;
  const addedP99 = fixedGateway.p99Ms - fixedDirect.p99Ms;
  targetRows.push({
    name: `added latency p50 at ${rate} req/s`,
    measured: `${addedP50.toFixed(2)} ms`,
    goal: '≤ 1 ms',
    pass: addedP50 <= 1,
  });
  targetRows.push({
    name: `added latency p99 at ${rate} req/s`,
    measured: `${addedP99.toFixed(2)} ms`,
    goal: '≤ 3 ms',
    pass: addedP99 <= 3,
  });
  const sequentialAdded = seqGateway.p50Ms - seqDirect.p50Ms;
  targetRows.push({
    name: 'added latency p50, sequential',
    measured: `${sequentialAdded.toFixed(3)} ms`,
    goal: '≤ 0.4 ms',
    pass: sequentialAdded <= 0.4,
  });
  const ttftAdded = ttftGateway.ttftP50Ms - ttftDirect.ttftP50Ms;
  targetRows.push({
    name: 'time to first token added (p50)',
    measured: `${ttftAdded.toFixed(3)} ms`,
    goal: '≤ 1 ms',
    pass: ttftAdded <= 1,
  });
  targetRows.push({ name: 'idle RSS', measured: `${idleRss.toFixed(1)} MB`, goal: '≤ 90 MB', pass: idleRss <= 90 });
  targetRows.push({
    name: 'RSS per open stream (1,000 slow streams)',
    measured: `${streams.perStreamKb.toFixed(0)} KB`,
    goal: '≤ 100 KB',
    pass: streams.perStreamKb <= 100,
  });
  targetRows.push({
    name: 'cold start (spawn → first completion)',
    measured: `${cold.gateway.toFixed(0)} ms (reference ${cold.reference.toFixed(0)} ms)`,
    goal: '≤ 300 ms',
    pass: cold.gateway <= 300,
  });
  const errors = [...points.entries()]
    .filter(([key]) => key.includes('|gateway') || key.includes('|translated'))
    .reduce((sum, [, point]) => sum + point.errors + point.timeouts, 0);
  const allErrors = errors + seqGateway.errors + fixedGateway.errors + streams.failed;
  if (soaked) targetRows.push(...soaked.rows);
  targetRows.push({
    name: 'gateway errors and 10 s timeouts under load',
    measured: String(allErrors),
    goal: '0',
    pass: allErrors === 0,
  });

  const date = new Date().toISOString().slice(0, 16).replace('T', '_').replace(':', '');
  const lines = [
    `# Benchmark ${new Date().toISOString()} (${quick ? 'quick' : 'full'})`,
    '',
    `Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\`. The gateway runs the realistic configuration: a gateway key (created with \`keys create\`, sent as Bearer), the usage ledger on SQLite, metrics. ${rounds} interleaved round(s), ${seconds} s per point after ${warmup} s warm-up, wrk -t2; medians. Machine: ${spawnSync('nproc').stdout.toString().trim()} cores, Node ${process.version}. The load generator, upstream and proxies share the cores: compare ratios within this run.`,
    '',
    '## Throughput, req/s (proxy CPU per request)',
    '',
    `| scenario | direct | reference proxy | gateway |${baseline ? ` ${baseline.label} (before) |` : ''} gateway translated (→ Anthropic) | Portkey |`,
    `|---|---|---|---|${baseline ? '---|' : ''}---|---|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    '## Targets (quality.md)',
    '',
    '| target | measured | goal | verdict |',
    '|---|---|---|---|',
    ...targetRows.map((row) => `| ${row.name} | ${row.measured} | ${row.goal} | ${verdict(row.pass)} |`),
    '',
    `Latency detail: sequential p50 direct ${seqDirect.p50Ms.toFixed(3)} ms, gateway ${seqGateway.p50Ms.toFixed(3)} ms; fixed ${rate} req/s p50/p99 direct ${fixedDirect.p50Ms.toFixed(2)}/${fixedDirect.p99Ms.toFixed(2)} ms, gateway ${fixedGateway.p50Ms.toFixed(2)}/${fixedGateway.p99Ms.toFixed(2)} ms; gateway peak RSS ${peakRss.toFixed(0)} MB; 1,000 slow streams took ${streams.seconds.toFixed(1)} s in all (one takes ~4 s).${soaked ? '' : ' Not measured in this run: the memory soak (`--soak 10`).'}`,
    ...(soaked ? ['', soaked.detail] : []),
    '',
  ];
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const file = join(root, `bench/results/${date}${quick ? '-quick' : ''}.md`);
  writeFileSync(file, lines.join('\n'));
  log(`\n${lines.join('\n')}\nwritten to ${file}`);
}

const stopAll = async (): Promise<void> => {
  for (const managed of processes.reverse()) await managed.stop();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void stopAll().finally(() => process.exit(130));
  });
try {
  await main();
} finally {
  await closeLoad();
  await stopAll();
  if (baseline) rmSync(baseline.root, { recursive: true, force: true });
}
