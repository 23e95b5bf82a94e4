/**
 * Micro-benchmark of the metrics hot path: `GatewayMetrics.requestFinished` over a realistic mix of
 * samples (a JSON success with usage and cost, a stream with TTFT, a failover that ended in an error),
 * plus the cost of a scrape and of prom-client's default metrics while idle.
 *
 *   npx tsx bench/metrics-hot-path.ts [calls]     default 1,000,000 calls per round, 5 rounds
 *
 * The figure quoted in docs/observability.md is the median ns per call.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayMetrics } from '../src/usage/gateway-metrics.js';
import type { RequestSample } from '../src/usage/request-sample.js';

const calls = Number(process.argv[2] ?? 1_000_000);
const providers = ['openai', 'anthropic', 'gemini', 'ollama'];
const models = Array.from({ length: 40 }, (_, index) => `model-${index}`);

function sample(index: number): RequestSample {
  const provider = providers[index % providers.length] ?? 'openai';
  const model = models[index % models.length];
  switch (index % 3) {
    case 0:
      return {
        endpoint: 'chat_completions',
        provider,
        model,
        status: 200,
        stream: false,
        durationMs: 420 + (index % 900),
        overheadMs: 0.3,
        usage: { prompt: 812, completion: 128, cached: 512 },
        costUsd: 0.00123,
        attempts: [{ provider, outcome: 'ok' }],
      };
    case 1:
      return {
        endpoint: 'chat_completions',
        provider,
        model,
        status: 200,
        stream: true,
        durationMs: 2400,
        ttftMs: 310,
        overheadMs: 0.5,
        usage: { prompt: 300, completion: 900, reasoning: 200 },
        costUsd: 0.004,
        attempts: [{ provider, outcome: 'ok' }],
      };
    default:
      return {
        endpoint: 'chat_completions',
        provider,
        model,
        status: 503,
        code: 'no_provider_available',
        stream: false,
        durationMs: 30,
        overheadMs: 0.2,
        attempts: [
          { provider, outcome: 'upstream_timeout' },
          { provider: 'gemini', outcome: 'upstream_unavailable' },
        ],
      };
  }
}

function round(metrics: GatewayMetrics, samples: readonly RequestSample[]): number {
  const start = process.hrtime.bigint();
  for (let index = 0; index < calls; index++) metrics.requestFinished(samples[index % samples.length] as RequestSample);
  return Number(process.hrtime.bigint() - start) / calls;
}

async function idleCpuMicros(milliseconds: number): Promise<number> {
  const before = process.cpuUsage();
  await sleep(milliseconds);
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

const idleBefore = await idleCpuMicros(3000);
const metrics = new GatewayMetrics({ providers });
const idleAfter = await idleCpuMicros(3000);
const samples = Array.from({ length: 1200 }, (_, index) => sample(index));
round(metrics, samples); // warm-up: JIT and every series created
const perCall = Array.from({ length: 5 }, () => round(metrics, samples)).sort((a, b) => a - b);
const median = perCall[2] ?? 0;

const renders: number[] = [];
let size = 0;
for (let index = 0; index < 50; index++) {
  const start = process.hrtime.bigint();
  size = (await metrics.render()).body.length;
  renders.push(Number(process.hrtime.bigint() - start) / 1e6);
}
renders.sort((a, b) => a - b);

console.log(
  `requestFinished: median ${median.toFixed(0)} ns/call over 5 rounds of ${calls} (${perCall.map((value) => value.toFixed(0)).join(', ')})`,
);
console.log(`render(): median ${(renders[25] ?? 0).toFixed(2)} ms for ${(size / 1024).toFixed(0)} KiB`);
console.log(`idle CPU over 3 s: ${(idleBefore / 1000).toFixed(1)} ms before, ${(idleAfter / 1000).toFixed(1)} ms with default metrics`);
