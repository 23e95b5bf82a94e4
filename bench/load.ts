import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';

export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  model: string;
  pid?: number;
}

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Non-2xx answers and socket errors (connect, read, write). */
  errors: number;
  /** Requests with no answer within wrk's timeout (10 s): a hang, or a saturated machine. */
  timeouts: number;
}

const scripts = mkdtempSync(join(tmpdir(), 'cb-bench-'));

export function body(target: Target, stream: boolean): string {
  return JSON.stringify({
    model: target.model,
    messages: [{ role: 'user', content: 'Say something about foxes.' }],
    ...(stream ? { stream: true } : {}),
  });
}

/** Runs wrk against a target; returns throughput, latencies and the count of non-2xx or socket errors. */
export function wrk(target: Target, stream: boolean, connections: number, seconds: number): WrkResult {
  const script = join(scripts, `${target.name}-${stream ? 'sse' : 'json'}.lua`);
  const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bench', ...target.headers };
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = [[${body(target, stream)}]]\n${Object.entries(headers)
      .map(([name, value]) => `wrk.headers["${name}"] = "${value}"`)
      .join('\n')}\n`,
  );
  const output = execFileSync(
    'wrk',
    ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '--latency', '-s', script, target.url],
    {
      encoding: 'utf8',
      timeout: (seconds + 30) * 1000,
    },
  );
  const number = (pattern: RegExp): number => Number(pattern.exec(output)?.[1] ?? 0);
  const millis = (pattern: RegExp): number => {
    const match = pattern.exec(output);
    if (!match) return Number.NaN;
    const value = Number(match[1]);
    return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
  };
  const errors =
    number(/Non-2xx or 3xx responses: (\d+)/) +
    number(/Socket errors: connect (\d+)/) +
    number(/read (\d+), write \d+, timeout \d+/) +
    number(/read \d+, write (\d+), timeout \d+/);
  return {
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    requests: number(/(\d+) requests in/),
    p50Ms: millis(/ 50%\s+([\d.]+)(us|ms|s)/),
    p99Ms: millis(/ 99%\s+([\d.]+)(us|ms|s)/),
    meanMs: millis(/Latency\s+([\d.]+)(us|ms|s)/),
    errors,
    timeouts: number(/timeout (\d+)/),
  };
}

const agent = new Agent({ connections: 2_000, keepAliveTimeout: 30_000, pipelining: 1 });

/** One request; resolves with total time and time to the first body byte, in ms. */
export async function timed(target: Target, stream: boolean): Promise<{ totalMs: number; firstByteMs: number; ok: boolean }> {
  const started = performance.now();
  const response = await request(target.url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench', ...target.headers },
    body: body(target, stream),
  });
  let firstByteMs = Number.NaN;
  for await (const _chunk of response.body) if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - started;
  return { totalMs: performance.now() - started, firstByteMs, ok: response.statusCode === 200 };
}

/** One request at a time. */
export async function sequential(
  target: Target,
  count: number,
  stream: boolean,
): Promise<{ p50Ms: number; p99Ms: number; ttftP50Ms: number; errors: number }> {
  const totals: number[] = [];
  const firsts: number[] = [];
  let errors = 0;
  for (let index = 0; index < count; index++) {
    const result = await timed(target, stream);
    if (!result.ok) errors++;
    totals.push(result.totalMs);
    firsts.push(result.firstByteMs);
  }
  return { p50Ms: percentile(totals, 50), p99Ms: percentile(totals, 99), ttftP50Ms: percentile(firsts, 50), errors };
}

/** A fixed arrival rate (open loop), so latency is measured below saturation. */
export async function fixedRate(
  target: Target,
  perSecond: number,
  seconds: number,
  stream = false,
): Promise<{ p50Ms: number; p99Ms: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  const total = perSecond * seconds;
  for (let index = 0; index < total; index++) {
    const due = started + (index * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      timed(target, stream).then(
        (result) => {
          if (!result.ok) errors++;
          latencies.push(result.totalMs);
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(pending);
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors };
}

export function percentile(values: number[], rank: number): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((left, right) => left - right);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((rank / 100) * sorted.length))] as number;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export async function closeLoad(): Promise<void> {
  await agent.close();
}
