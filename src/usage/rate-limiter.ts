import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';

export interface RateLimits {
  /** Requests per minute. */
  rpm?: number;
  /** Tokens per minute (prompt estimate at admission, corrected with actual usage after). */
  tpm?: number;
  /** Requests in flight at once. */
  concurrency?: number;
}

const windowMs = 60_000;

/** Up to this many requests per minute are counted exactly (a log of their times); above, by the estimate. */
const exactRequestLimit = 10_000;

/** One scope's counters: a sliding-window estimate over two fixed one-minute windows, plus an exact log of request times for rpm limits up to 10,000. */
interface Counter {
  /** Admission times of the last minute, oldest first from `head` (exact rpm). */
  times: number[];
  head: number;
  windowStart: number;
  requests: number;
  tokens: number;
  previousRequests: number;
  previousTokens: number;
  inFlight: number;
  touched: number;
}

/** A granted admission; `release` must be called once, with the tokens actually used. */
export interface RateTicket {
  /** `x-ratelimit-*` headers describing the tightest scope. */
  headers: Record<string, string>;
  release(actualTokens: number): void;
}

/**
 * Rate limits for clients of the gateway, per scope (a key, a rule, `global`): requests and tokens per
 * minute, and requests in flight. Requests per minute up to 10,000 are counted exactly over the last
 * 60 s (a log of admission times, so Retry-After is when the oldest leaves); tokens, and larger request
 * limits, use the sliding-window approximation (the previous minute's count weighted by how much of it is
 * still inside the last 60 s): constant memory, and a burst at a minute boundary cannot double the limit. A refusal is a 429 `GatewayError` with
 * `Retry-After` and OpenAI's `x-ratelimit-*` headers. Counters live in this process: with several
 * replicas each enforces its own share (docs/usage.md).
 */
export class RateLimiter {
  private readonly counters = new Map<string, Counter>();
  private sweeps = 0;

  constructor(private readonly clock: Clock) {}

  /**
   * Admits a request under every given scope, or throws a 429 naming the limit hit. Scopes with no
   * limits are skipped. The returned ticket releases concurrency and books actual tokens.
   */
  admit(scopes: readonly { scope: string; label: string; limits: RateLimits }[], estimatedTokens: number): RateTicket {
    const now = this.clock.now();
    if (++this.sweeps % 10_000 === 0) this.sweep(now);
    const active = scopes.filter(({ limits }) => limits.rpm !== undefined || limits.tpm !== undefined || limits.concurrency !== undefined);
    const counters = active.map(({ scope }) => this.counter(scope, now));
    for (let index = 0; index < active.length; index++) {
      const { label, limits } = active[index] as (typeof active)[number];
      const counter = counters[index] as Counter;
      const refusal = refuse(counter, limits, estimatedTokens, now, label);
      if (refusal) throw refusal;
    }
    for (const counter of counters) {
      counter.times.push(now);
      counter.requests++;
      counter.tokens += estimatedTokens;
      counter.inFlight++;
      counter.touched = now;
    }
    const headers = tightest(counters, active, now);
    const admittedWindows = counters.map((counter) => counter.windowStart);
    let released = false;
    return {
      headers,
      release: (actualTokens) => {
        if (released) return;
        released = true;
        const correction = actualTokens - estimatedTokens;
        counters.forEach((counter, index) => {
          counter.inFlight--;
          // Book the difference in the minute the request was admitted in: still the current one, or by now the previous one.
          roll(counter, this.clock.now());
          const admitted = admittedWindows[index] as number;
          if (counter.windowStart === admitted) counter.tokens = Math.max(0, counter.tokens + correction);
          else if (counter.windowStart === admitted + windowMs) counter.previousTokens = Math.max(0, counter.previousTokens + correction);
        });
      },
    };
  }

  private counter(scope: string, now: number): Counter {
    let counter = this.counters.get(scope);
    if (!counter) {
      counter = {
        times: [],
        head: 0,
        windowStart: now - (now % windowMs),
        requests: 0,
        tokens: 0,
        previousRequests: 0,
        previousTokens: 0,
        inFlight: 0,
        touched: now,
      };
      this.counters.set(scope, counter);
    }
    roll(counter, now);
    return counter;
  }

  /** Forgets idle scopes (nothing in flight, untouched for two windows), so memory follows active keys. */
  private sweep(now: number): void {
    for (const [scope, counter] of this.counters)
      if (counter.inFlight === 0 && now - counter.touched > 2 * windowMs) this.counters.delete(scope);
  }
}

function roll(counter: Counter, now: number): void {
  const horizon = now - windowMs;
  while (counter.head < counter.times.length && (counter.times[counter.head] as number) <= horizon) counter.head++;
  if (counter.head > 1024 && counter.head * 2 > counter.times.length) {
    counter.times = counter.times.slice(counter.head);
    counter.head = 0;
  }
  const start = now - (now % windowMs);
  if (start === counter.windowStart) return;
  const adjacent = start - counter.windowStart === windowMs;
  counter.previousRequests = adjacent ? counter.requests : 0;
  counter.previousTokens = adjacent ? counter.tokens : 0;
  counter.requests = 0;
  counter.tokens = 0;
  counter.windowStart = start;
}

/** Requests admitted in the last 60 s: exact when the limit is logged, else the estimate. */
function recentRequests(counter: Counter, rpm: number, now: number): number {
  return rpm <= exactRequestLimit
    ? counter.times.length - counter.head
    : weighted(counter.previousRequests, counter.requests, counter, now);
}

function weighted(previous: number, current: number, counter: Counter, now: number): number {
  const remaining = 1 - (now - counter.windowStart) / windowMs;
  return previous * remaining + current;
}

/** Milliseconds until a weighted count drops so that `needed` more fit under `limit`. */
function waitFor(previous: number, current: number, limit: number, needed: number, counter: Counter, now: number): number {
  const elapsed = now - counter.windowStart;
  if (current + needed > limit) {
    // This minute alone is full: wait for it to end, then until its weight in the next minute has decayed enough.
    const decay = current > 0 ? windowMs * (1 - (limit - needed) / current) : 0;
    return windowMs - elapsed + Math.max(0, Math.ceil(decay - 1e-6));
  }
  if (previous <= 0) return 1_000;
  return Math.max(1, Math.ceil(windowMs * (1 - (limit - current - needed) / previous) - elapsed));
}

/** The `x-ratelimit-*` headers of the scope with the least room left (requests first, then tokens). */
function tightest(counters: readonly Counter[], scopes: readonly { limits: RateLimits }[], now: number): Record<string, string> {
  let best: Record<string, string> = {};
  let bestRoom = Number.POSITIVE_INFINITY;
  scopes.forEach(({ limits }, index) => {
    if (limits.rpm === undefined && limits.tpm === undefined) return;
    const counter = counters[index] as Counter;
    const requestRoom =
      limits.rpm === undefined ? Number.POSITIVE_INFINITY : (limits.rpm - recentRequests(counter, limits.rpm, now)) / limits.rpm;
    const tokenRoom =
      limits.tpm === undefined
        ? Number.POSITIVE_INFINITY
        : (limits.tpm - weighted(counter.previousTokens, counter.tokens, counter, now)) / limits.tpm;
    const room = Math.min(requestRoom, tokenRoom);
    if (room < bestRoom) {
      bestRoom = room;
      best = describe(counter, limits, now);
    }
  });
  return best;
}

function refuse(counter: Counter, limits: RateLimits, tokens: number, now: number, label: string): GatewayError | undefined {
  let wait: number | undefined;
  let what = '';
  if (limits.concurrency !== undefined && counter.inFlight + 1 > limits.concurrency) {
    wait = 1_000;
    what = `${limits.concurrency} requests in flight`;
  } else if (limits.rpm !== undefined && recentRequests(counter, limits.rpm, now) + 1 > limits.rpm) {
    wait =
      limits.rpm <= exactRequestLimit
        ? Math.max(1, (counter.times[counter.head + recentRequests(counter, limits.rpm, now) - limits.rpm] ?? now) + windowMs - now)
        : waitFor(counter.previousRequests, counter.requests, limits.rpm, 1, counter, now);
    what = `${limits.rpm} requests per minute`;
  } else if (
    limits.tpm !== undefined &&
    weighted(counter.previousTokens, counter.tokens, counter, now) + tokens > limits.tpm &&
    counter.requests + counter.previousRequests > 0
  ) {
    wait = waitFor(counter.previousTokens, counter.tokens, limits.tpm, Math.min(tokens, limits.tpm), counter, now);
    what = `${limits.tpm} tokens per minute`;
  }
  if (wait === undefined) return undefined;
  return new GatewayError(ErrorCode.rateLimited, `Rate limit of ${label} reached (${what}); retry after ${Math.ceil(wait / 1000)} s.`, {
    status: 429,
    isRetryable: true,
    retryAfterMs: wait,
    headers: describe(counter, limits, now),
  });
}

/** OpenAI's `x-ratelimit-*` headers for one scope. */
function describe(counter: Counter, limits: RateLimits, now: number): Record<string, string> {
  const headers: Record<string, string> = {};
  const reset = `${Math.max(0, Math.ceil((counter.windowStart + windowMs - now) / 1000))}s`;
  if (limits.rpm !== undefined) {
    headers['x-ratelimit-limit-requests'] = String(limits.rpm);
    headers['x-ratelimit-remaining-requests'] = String(Math.max(0, Math.floor(limits.rpm - recentRequests(counter, limits.rpm, now))));
    headers['x-ratelimit-reset-requests'] = reset;
  }
  if (limits.tpm !== undefined) {
    headers['x-ratelimit-limit-tokens'] = String(limits.tpm);
    headers['x-ratelimit-remaining-tokens'] = String(
      Math.max(0, Math.floor(limits.tpm - weighted(counter.previousTokens, counter.tokens, counter, now))),
    );
    headers['x-ratelimit-reset-tokens'] = reset;
  }
  return headers;
}
