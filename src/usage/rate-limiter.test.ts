import { describe, expect, it } from 'vitest';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { RateLimiter } from './rate-limiter.js';
import type { RateLimits } from './rate-limiter.js';
import { fakeClock as sharedFakeClock, refusalOf } from '../../test/support/unit.js';

const minute = 60_000;
/** A window start, so `at(ms)` reads as "ms into the window". */
const base = 1_000 * minute;

const fakeClock = (at = base) => sharedFakeClock(at);

function scope(name: string, limits: RateLimits, label = `key '${name}'`) {
  return { scope: name, label, limits };
}

/** The 429 an admission throws, or a test failure when it was admitted. */
describe('RateLimiter requests per minute', () => {
  it('admits rpm requests in a minute and refuses the next with a retryable 429 naming the limit', () => {
    const clock = fakeClock(base + 10_000);
    const limiter = new RateLimiter(clock);
    const limits = [scope('alpha', { rpm: 3 })];
    for (let index = 0; index < 3; index++) limiter.admit(limits, 0).release(0);
    const error = refusalOf(() => limiter.admit(limits, 0));
    expect(error.code).toBe(ErrorCode.rateLimited);
    expect(error.status).toBe(429);
    expect(error.isRetryable).toBe(true);
    expect(error.message).toContain("Rate limit of key 'alpha' reached (3 requests per minute)");
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.message).toContain(`retry after ${Math.ceil((error.retryAfterMs ?? 0) / 1000)} s`);
  });

  it('does not give a request back to rpm on release (rpm counts arrivals, not requests in flight)', () => {
    const limiter = new RateLimiter(fakeClock());
    const limits = [scope('alpha', { rpm: 2 })];
    limiter.admit(limits, 0).release(0);
    limiter.admit(limits, 0).release(0);
    expect(() => limiter.admit(limits, 0)).toThrow(GatewayError);
  });

  it('keeps scopes apart', () => {
    const limiter = new RateLimiter(fakeClock());
    limiter.admit([scope('alpha', { rpm: 1 })], 0);
    expect(() => limiter.admit([scope('beta', { rpm: 1 })], 0)).not.toThrow();
    expect(() => limiter.admit([scope('alpha', { rpm: 1 })], 0)).toThrow(GatewayError);
  });

  it('skips scopes without limits and gives no headers when nothing is limited', () => {
    const limiter = new RateLimiter(fakeClock());
    for (let index = 0; index < 1_000; index++) {
      const ticket = limiter.admit([scope('free', {})], 1_000_000);
      expect(ticket.headers).toEqual({});
    }
    expect(limiter.admit([], 5).headers).toEqual({});
  });
});

describe('RateLimiter tokens per minute', () => {
  it('holds the estimate at admission and books the actual tokens on release', () => {
    const limiter = new RateLimiter(fakeClock(base + 1_000));
    const limits = [scope('alpha', { tpm: 1_000 })];
    const first = limiter.admit(limits, 600);
    const error = refusalOf(() => limiter.admit(limits, 500));
    expect(error.message).toContain('1000 tokens per minute');
    first.release(100); // 100 used, not 600
    const second = limiter.admit(limits, 500);
    expect(second.headers['x-ratelimit-remaining-tokens']).toBe('400');
    second.release(500);
    expect(limiter.admit(limits, 400).headers['x-ratelimit-remaining-tokens']).toBe('0');
  });

  it('books more than the estimate when a request used more', () => {
    const limiter = new RateLimiter(fakeClock(base + 1_000));
    const limits = [scope('alpha', { tpm: 1_000 })];
    limiter.admit(limits, 100).release(900);
    expect(() => limiter.admit(limits, 200)).toThrow(/tokens per minute/);
    expect(() => limiter.admit(limits, 100)).not.toThrow();
  });

  it('admits the first request of an empty window even when its estimate alone is over tpm', () => {
    const limiter = new RateLimiter(fakeClock(base + 1_000));
    const limits = [scope('alpha', { tpm: 100 })];
    const ticket = limiter.admit(limits, 5_000);
    expect(ticket.headers['x-ratelimit-remaining-tokens']).toBe('0');
    expect(() => limiter.admit(limits, 1)).toThrow(/100 tokens per minute/);
  });

  it('books the correction in the window the request was admitted in, not in a later one', () => {
    // Admitted at 59 s with an estimate of 900, released at 61.5 s having used nothing. Meanwhile a request
    // in the new minute booked 50 tokens. The 900 → 0 correction belongs to the old window (or nowhere):
    // it must not wipe the new window's 50.
    const clock = fakeClock(base + 59_000);
    const limiter = new RateLimiter(clock);
    const limits = [scope('alpha', { tpm: 1_000 })];
    const early = limiter.admit(limits, 900);
    clock.set(base + minute + 1_000);
    limiter.admit(limits, 50).release(50);
    clock.set(base + minute + 1_500);
    early.release(0);
    // At the start of the minute after, the 50 tokens of the second minute weigh fully: 950 are left.
    clock.set(base + 2 * minute);
    expect(limiter.admit(limits, 0).headers['x-ratelimit-remaining-tokens']).toBe('950');
  });
});

describe('RateLimiter concurrency', () => {
  it('refuses beyond the requests in flight and admits again after a release', () => {
    const limiter = new RateLimiter(fakeClock());
    const limits = [scope('alpha', { concurrency: 2 })];
    const first = limiter.admit(limits, 0);
    limiter.admit(limits, 0);
    const error = refusalOf(() => limiter.admit(limits, 0));
    expect(error.message).toContain('2 requests in flight');
    expect(error.retryAfterMs).toBe(1_000);
    first.release(0);
    expect(() => limiter.admit(limits, 0)).not.toThrow();
  });

  it('release is idempotent: a second call frees nothing and books nothing', () => {
    const limiter = new RateLimiter(fakeClock(base + 1_000));
    const limits = [scope('alpha', { concurrency: 1, tpm: 1_000 })];
    const first = limiter.admit(limits, 500);
    first.release(100);
    first.release(100);
    first.release(0);
    const second = limiter.admit(limits, 0);
    // 100 booked once (not 0 from the third call, not 200 from the second).
    expect(second.headers['x-ratelimit-remaining-tokens']).toBe('900');
    expect(() => limiter.admit(limits, 0)).toThrow(/1 requests in flight/);
  });
});

describe('RateLimiter with several scopes', () => {
  it('the tightest scope refuses, and a refused request is booked in none of them', () => {
    const limiter = new RateLimiter(fakeClock());
    const key = scope('key:k1', { rpm: 5 });
    const global = scope('global', { rpm: 2 }, 'this gateway');
    limiter.admit([key, global], 0);
    limiter.admit([key, global], 0);
    const error = refusalOf(() => limiter.admit([key, global], 0));
    expect(error.message).toContain('Rate limit of this gateway reached (2 requests per minute)');
    expect(error.headers['x-ratelimit-limit-requests']).toBe('2');
    // The key saw 2 requests, not 3: three more fit under its 5.
    for (let index = 0; index < 3; index++) limiter.admit([key], 0);
    expect(() => limiter.admit([key], 0)).toThrow(/key 'key:k1'/);
  });

  it('a refusal by a later scope does not book the earlier one either (tokens and in-flight)', () => {
    const limiter = new RateLimiter(fakeClock(base + 1_000));
    const key = scope('key:k1', { tpm: 1_000, concurrency: 1 });
    const rule = scope('rule:r', { rpm: 1 }, "cost rule 'r'");
    limiter.admit([rule], 0);
    expect(() => limiter.admit([key, rule], 700)).toThrow(/cost rule 'r'/);
    // Had the key been booked, it would have 700 tokens and one request in flight.
    const ticket = limiter.admit([key], 0);
    expect(ticket.headers['x-ratelimit-remaining-tokens']).toBe('1000');
  });

  it('refuses when any one scope is over, whatever the order', () => {
    const limiter = new RateLimiter(fakeClock());
    const key = scope('key:k1', { rpm: 1 });
    const global = scope('global', { rpm: 100 }, 'this gateway');
    limiter.admit([global, key], 0);
    expect(refusalOf(() => limiter.admit([global, key], 0)).message).toContain("key 'key:k1'");
  });

  it('a release frees every scope of the ticket', () => {
    const limiter = new RateLimiter(fakeClock());
    const key = scope('key:k1', { concurrency: 1 });
    const global = scope('global', { concurrency: 1 }, 'this gateway');
    const ticket = limiter.admit([key, global], 0);
    expect(() => limiter.admit([global], 0)).toThrow();
    ticket.release(0);
    limiter.admit([key], 0);
    limiter.admit([global], 0);
  });
});

describe('RateLimiter sliding window', () => {
  it('counts requests over exactly the last 60 s', () => {
    const clock = fakeClock(base + 50_000);
    const limiter = new RateLimiter(clock);
    const limits = [scope('alpha', { rpm: 10 })];
    for (let index = 0; index < 10; index++) limiter.admit(limits, 0);
    // 40 s later all ten are still inside the last minute.
    clock.set(base + minute + 30_000);
    expect(() => limiter.admit(limits, 0)).toThrow(/10 requests per minute/);
    // 60 s after they were admitted they have left it: ten more fit.
    clock.set(base + minute + 50_000);
    for (let index = 0; index < 10; index++) limiter.admit(limits, 0);
    expect(() => limiter.admit(limits, 0)).toThrow(/10 requests per minute/);
  });

  it('a burst at the end of a minute cannot be repeated at the start of the next (no doubled limit)', () => {
    const clock = fakeClock(base + 59_999);
    const limiter = new RateLimiter(clock);
    const limits = [scope('alpha', { rpm: 10 })];
    for (let index = 0; index < 10; index++) limiter.admit(limits, 0);
    clock.set(base + minute);
    expect(() => limiter.admit(limits, 0)).toThrow(GatewayError);
    clock.set(base + minute + 1);
    expect(() => limiter.admit(limits, 0)).toThrow(GatewayError);
  });

  it('weights tokens the same way', () => {
    const clock = fakeClock(base + 30_000);
    const limiter = new RateLimiter(clock);
    const limits = [scope('alpha', { tpm: 1_000 })];
    limiter.admit(limits, 1_000).release(1_000);
    clock.set(base + minute + 45_000); // a quarter of the previous minute is still inside: 250 tokens
    expect(limiter.admit(limits, 0).headers['x-ratelimit-remaining-tokens']).toBe('750');
    expect(() => limiter.admit(limits, 751)).toThrow(/tokens per minute/);
    expect(() => limiter.admit(limits, 750)).not.toThrow();
  });

  it('forgets a minute that is not the previous one (after an idle minute the full limit is back)', () => {
    const clock = fakeClock(base + 59_000);
    const limiter = new RateLimiter(clock);
    const limits = [scope('alpha', { rpm: 3 })];
    for (let index = 0; index < 3; index++) limiter.admit(limits, 0);
    clock.set(base + 2 * minute);
    for (let index = 0; index < 3; index++) limiter.admit(limits, 0);
    expect(() => limiter.admit(limits, 0)).toThrow();
  });
});

describe('RateLimiter Retry-After', () => {
  it('is the exact wait until the oldest counted request leaves the last minute', () => {
    const clock = fakeClock(base + 10_000);
    const limiter = new RateLimiter(clock);
    const limits = [scope('alpha', { rpm: 10 })];
    for (let index = 0; index < 5; index++) limiter.admit(limits, 0);
    clock.set(base + 40_000);
    for (let index = 0; index < 5; index++) limiter.admit(limits, 0);
    clock.set(base + 50_000);
    const error = refusalOf(() => limiter.admit(limits, 0));
    // The first five were admitted at 10 s: they leave the window at 70 s, 20 s from now.
    expect(error.retryAfterMs).toBe(20_000);
    expect(error.message).toContain('retry after 20 s');
    clock.advance(19_999);
    expect(() => limiter.admit(limits, 0)).toThrow(GatewayError);
    clock.advance(1);
    for (let index = 0; index < 5; index++) limiter.admit(limits, 0);
  });

  it('is positive and at most a minute for every kind of limit', () => {
    const clock = fakeClock(base + 20_000);
    const limiter = new RateLimiter(clock);
    const cases: [RateLimits, number][] = [
      [{ rpm: 1 }, 0],
      [{ tpm: 100 }, 60],
      [{ concurrency: 1 }, 0],
    ];
    cases.forEach(([limits, tokens], index) => {
      const entry = [scope(`s${index}`, limits)];
      limiter.admit(entry, tokens);
      const error = refusalOf(() => limiter.admit(entry, tokens));
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(minute);
    });
  });

  it('for a full current minute, waits at least until the minute ends', () => {
    const clock = fakeClock(base + 50_000);
    const limiter = new RateLimiter(clock);
    const limits = [scope('alpha', { rpm: 10 })];
    for (let index = 0; index < 10; index++) limiter.admit(limits, 0);
    const error = refusalOf(() => limiter.admit(limits, 0));
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(10_000);
  });

  it('a client that waits Retry-After after filling the current minute is admitted', () => {
    // 10 requests at 50 s fill rpm 10. The 429 says 10 s, but at the next minute's start the previous 10
    // still weigh fully (10 × (1 − 0/60)), so the retry is refused again; the true wait is 16 s.
    const clock = fakeClock(base + 50_000);
    const limiter = new RateLimiter(clock);
    const limits = [scope('alpha', { rpm: 10 })];
    for (let index = 0; index < 10; index++) limiter.admit(limits, 0);
    const error = refusalOf(() => limiter.admit(limits, 0));
    clock.advance(error.retryAfterMs ?? 0);
    expect(() => limiter.admit(limits, 0)).not.toThrow();
  });
});

describe('RateLimiter x-ratelimit headers', () => {
  it("describe the limits, what is left after this request, and the seconds until the minute's reset", () => {
    const limiter = new RateLimiter(fakeClock(base + 15_000));
    const ticket = limiter.admit([scope('alpha', { rpm: 10, tpm: 1_000 })], 100);
    expect(ticket.headers).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '9',
      'x-ratelimit-reset-requests': '45s',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '900',
      'x-ratelimit-reset-tokens': '45s',
    });
  });

  it('name only the kinds of limit the scope has', () => {
    const limiter = new RateLimiter(fakeClock(base + 1_500));
    expect(limiter.admit([scope('alpha', { rpm: 5 })], 10).headers).toEqual({
      'x-ratelimit-limit-requests': '5',
      'x-ratelimit-remaining-requests': '4',
      'x-ratelimit-reset-requests': '59s',
    });
    expect(limiter.admit([scope('beta', { concurrency: 5 })], 10).headers).toEqual({});
  });

  it('count what the last 60 s used, this request included', () => {
    const clock = fakeClock(base + 1_000);
    const limiter = new RateLimiter(clock);
    const limits = [scope('alpha', { rpm: 10 })];
    for (let index = 0; index < 4; index++) limiter.admit(limits, 0);
    clock.set(base + 30_000);
    expect(limiter.admit(limits, 0).headers['x-ratelimit-remaining-requests']).toBe('5');
    clock.set(base + 61_001); // the first four have left the window
    expect(limiter.admit(limits, 0).headers['x-ratelimit-remaining-requests']).toBe('8');
  });

  it('come with the refusal, showing nothing left', () => {
    const limiter = new RateLimiter(fakeClock(base + 1_000));
    const limits = [scope('alpha', { rpm: 1 })];
    limiter.admit(limits, 0);
    const error = refusalOf(() => limiter.admit(limits, 0));
    expect(error.headers).toMatchObject({ 'x-ratelimit-limit-requests': '1', 'x-ratelimit-remaining-requests': '0' });
  });

  it('describe the tightest scope, not merely the first one', () => {
    const limiter = new RateLimiter(fakeClock(base + 1_000));
    const ticket = limiter.admit([scope('key:k1', { rpm: 1_000 }), scope('global', { rpm: 10 }, 'this gateway')], 0);
    expect(ticket.headers['x-ratelimit-limit-requests']).toBe('10');
    expect(ticket.headers['x-ratelimit-remaining-requests']).toBe('9');
  });
});

describe('RateLimiter sweep', () => {
  it('forgets scopes idle for two minutes with nothing in flight, keeping busy and recent ones', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(clock);
    const counters = (limiter as unknown as { counters: Map<string, unknown> }).counters;
    limiter.admit([scope('idle', { rpm: 10 })], 0).release(0); // call 1
    limiter.admit([scope('busy', { concurrency: 10 })], 0); // call 2, never released
    clock.advance(2 * minute + 1);
    limiter.admit([scope('recent', { rpm: 10 })], 0).release(0); // call 3
    for (let call = 4; call < 10_000; call++) limiter.admit([], 0);
    expect([...counters.keys()].sort()).toEqual(['busy', 'idle', 'recent']);
    limiter.admit([], 0); // call 10,000 sweeps
    expect([...counters.keys()].sort()).toEqual(['busy', 'recent']);
  });

  it('keeps a scope touched within the last two minutes', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(clock);
    const counters = (limiter as unknown as { counters: Map<string, unknown> }).counters;
    limiter.admit([scope('alpha', { rpm: 10 })], 0).release(0);
    clock.advance(2 * minute);
    for (let call = 2; call <= 10_000; call++) limiter.admit([], 0);
    expect(counters.has('alpha')).toBe(true);
  });
});
