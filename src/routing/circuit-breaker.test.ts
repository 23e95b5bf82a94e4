import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import { defaultHealthPolicy } from './health-policy.js';
import { KeyPool } from './key-pool.js';
import { Secret } from '../config/secret.js';
import { RateWindow } from './rate-window.js';

function clock(start = 1_000_000) {
  const state = { now: start };
  return { now: () => state.now, advance: (ms: number) => (state.now += ms) };
}

describe('CircuitBreaker', () => {
  it('keeps its error-rate window to the last 1,000 outcomes of the last minute', () => {
    const time = clock();
    const breaker = new CircuitBreaker(
      { ...defaultHealthPolicy, consecutiveFailures: 1_000_000, minSamples: 20, errorRateThreshold: 0.5 },
      time,
    );
    for (let index = 0; index < 1_500; index++) breaker.success(10);
    expect(breaker.snapshot().samples).toBe(1_000);
    // 400 failures among the last 1,000: 40 % stays under the threshold; the 100 before them were overwritten.
    for (let index = 0; index < 400; index++) breaker.failure('upstream_error 500');
    expect(breaker.snapshot()).toMatchObject({ samples: 1_000, errorRate: 0.4, state: 'closed' });
    time.advance(defaultHealthPolicy.windowMs + 1);
    expect(breaker.snapshot().samples).toBe(0);
    breaker.success(10);
    expect(breaker.snapshot()).toMatchObject({ samples: 1, errorRate: 0 });
  });

  it('opens after consecutive failures, half-opens for one probe after the open period, and closes on success', () => {
    const time = clock();
    const breaker = new CircuitBreaker({ ...defaultHealthPolicy, consecutiveFailures: 3, openMs: 30_000 }, time);
    breaker.failure('upstream_error 500');
    breaker.failure('upstream_error 500');
    expect(breaker.state).toBe('closed');
    breaker.failure('upstream_error 500');
    expect(breaker.state).toBe('open');
    expect(breaker.available()).toBe(false);
    time.advance(29_999);
    expect(breaker.available()).toBe(false);
    time.advance(1);
    expect(breaker.state).toBe('half_open');
    expect(breaker.available()).toBe(true);
    expect(breaker.begin()).toBe(true);
    expect(breaker.available()).toBe(false); // one probe at a time
    breaker.success(120);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot()).toMatchObject({ samples: 0, consecutiveFailures: 0, latencyMs: 120 });
  });

  it('a probe cancelled without a verdict (client error, client gone) lets the next request probe', () => {
    const time = clock();
    const breaker = new CircuitBreaker({ ...defaultHealthPolicy, consecutiveFailures: 1, openMs: 1_000 }, time);
    breaker.failure('upstream_error 500');
    time.advance(1_000);
    expect(breaker.begin()).toBe(true);
    expect(breaker.available()).toBe(false);
    breaker.cancel();
    expect(breaker.state).toBe('half_open');
    expect(breaker.available()).toBe(true);
  });

  it('a failed probe reopens for twice as long', () => {
    const time = clock();
    const breaker = new CircuitBreaker({ ...defaultHealthPolicy, consecutiveFailures: 1, openMs: 1_000 }, time);
    breaker.failure('x');
    time.advance(1_000);
    breaker.begin();
    breaker.failure('still down');
    expect(breaker.state).toBe('open');
    time.advance(1_999);
    expect(breaker.state).toBe('open');
    time.advance(1);
    expect(breaker.state).toBe('half_open');
  });

  it("opens on the error rate over the minimum sample (the seed's 5 %)", () => {
    const time = clock();
    const breaker = new CircuitBreaker(
      { ...defaultHealthPolicy, consecutiveFailures: 100, minSamples: 20, errorRateThreshold: 0.05 },
      time,
    );
    for (let index = 0; index < 19; index++) breaker.success(10);
    breaker.failure('one bad');
    expect(breaker.state).toBe('open');
    expect(breaker.snapshot().errorRate).toBeCloseTo(0.05);
  });

  it('honours Retry-After, and a second shorter cooldown never shortens the first', () => {
    const time = clock();
    const breaker = new CircuitBreaker({ ...defaultHealthPolicy, openMs: 1_000 }, time);
    breaker.failure('overloaded', 60_000);
    expect(breaker.availableAt()).toBe(time.now() + 60_000);
    breaker.failure('overloaded', 5_000);
    expect(breaker.availableAt()).toBe(time.now() + 60_000);
  });

  it('keeps EWMA latency and TTFT', () => {
    const breaker = new CircuitBreaker(defaultHealthPolicy, clock());
    breaker.success(100, 50);
    breaker.success(200, 150);
    expect(breaker.latencyMs).toBeCloseTo(130);
    expect(breaker.ttftMs).toBeCloseTo(80);
  });
});

describe('KeyPool', () => {
  const keys = [new Secret('sk-key-one-1', 't'), new Secret('sk-key-two-2', 't'), new Secret('sk-key-three-3', 't')];

  it('spreads round-robin, cools a rate-limited key alone, and brings it back after its cooldown', () => {
    const time = clock();
    const pool = new KeyPool(keys, time);
    expect([pool.take(), pool.take(), pool.take(), pool.take()].map((key) => key?.index)).toEqual([0, 1, 2, 0]);
    pool.rateLimited(1, 10_000);
    expect([pool.take(), pool.take(), pool.take()].map((key) => key?.index)).toEqual([2, 0, 2]);
    pool.rateLimited(1, 1_000); // shorter: does not shorten
    time.advance(9_999);
    expect([pool.take(), pool.take()].map((key) => key?.index)).toEqual([0, 2]);
    time.advance(1);
    expect([pool.take(), pool.take(), pool.take()].map((key) => key?.index).sort()).toEqual([0, 1, 2]);
  });

  it('returns nothing when every key cools, and says when one is back', () => {
    const time = clock();
    const pool = new KeyPool(keys.slice(0, 2), time);
    pool.rateLimited(0, 5_000);
    pool.rateLimited(1, 3_000);
    expect(pool.take()).toBeUndefined();
    expect(pool.availableAt()).toBe(time.now() + 3_000);
  });

  it('keeps a prompt prefix on the same key while it is usable', () => {
    const pool = new KeyPool(keys, clock());
    const first = pool.take('system prompt A')?.index;
    expect([pool.take('system prompt A'), pool.take('system prompt A')].map((key) => key?.index)).toEqual([first, first]);
    expect(pool.snapshot().map((state) => state.fingerprint)).toHaveLength(3);
    expect(JSON.stringify(pool.snapshot())).not.toContain('sk-key');
  });
});

describe('RateWindow', () => {
  it('stops at the configured rpm and tpm within a sliding minute', () => {
    const time = clock();
    const window = new RateWindow({ rpm: 2, tpm: 1_000 }, time);
    window.record(100);
    expect(window.allows(100)).toBe(true);
    window.record(100);
    expect(window.allows(1)).toBe(false);
    time.advance(60_001);
    expect(window.allows(900)).toBe(true);
    window.record(900);
    expect(window.allows(200)).toBe(false);
  });
});
