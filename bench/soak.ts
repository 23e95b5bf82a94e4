/**
 * The memory soak (quality.md: no growth over a 10-minute soak, at most 10 %): a fresh gateway in the
 * realistic configuration under a fixed arrival rate, half JSON and half SSE requests, its RSS read from
 * /proc every 10 s. Growth compares the median RSS of the last minute with the median of the second
 * minute: the first is warm-up (JIT, heap sizing, connection pools), not growth.
 */
import { fixedRate, median } from './load.js';
import type { Target } from './load.js';
import { startGateway } from './gateway.js';
import type { GatewayBuild } from './gateway.js';
import { memory } from './processes.js';

export interface SoakResult {
  minutes: number;
  rate: number;
  /** Median RSS of the second minute and of the last minute, MB. */
  baselineMb: number;
  finalMb: number;
  growth: number;
  errors: number;
  samplesMb: number[];
}

export async function soak(options: {
  build: GatewayBuild;
  port: number;
  upstreamUrl: string;
  minutes: number;
  rate: number;
  log: (line: string) => void;
}): Promise<SoakResult> {
  const instance = await startGateway(options.build, 'gateway-soak', options.port, {
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: options.upstreamUrl,
  });
  const pid = instance.managed.pid;
  const target: Target = {
    name: 'soak',
    url: `http://127.0.0.1:${options.port}/v1/chat/completions`,
    headers: { authorization: `Bearer ${instance.key}` },
    model: 'gpt-4o',
  };
  const samples: { at: number; rssMb: number }[] = [];
  const started = performance.now();
  const sampler = setInterval(() => {
    const at = (performance.now() - started) / 60_000;
    const { rssMb } = memory(pid);
    samples.push({ at, rssMb });
    if (samples.length % 6 === 0) options.log(`soak ${at.toFixed(1)} min: RSS ${rssMb.toFixed(1)} MB`);
  }, 10_000);
  try {
    const seconds = options.minutes * 60;
    const [json, sse] = await Promise.all([
      fixedRate(target, options.rate / 2, seconds, false),
      fixedRate(target, options.rate / 2, seconds, true),
    ]);
    const window = (from: number, to: number) =>
      samples.filter((sample) => sample.at >= from && sample.at < to).map((sample) => sample.rssMb);
    const baselineMb = median(window(1, 2));
    const finalMb = median(window(options.minutes - 1, options.minutes + 1));
    return {
      minutes: options.minutes,
      rate: options.rate,
      baselineMb,
      finalMb,
      growth: (finalMb - baselineMb) / baselineMb,
      errors: json.errors + sse.errors,
      samplesMb: samples.map((sample) => sample.rssMb),
    };
  } finally {
    clearInterval(sampler);
    await instance.managed.stop();
  }
}
