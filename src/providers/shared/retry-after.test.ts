import { describe, expect, it } from 'vitest';
import { parseRetryAfter, readRetryAfter } from './retry-after.js';
import { upstreamFailure } from './upstream-error.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  it('reads seconds, fractional seconds and retry-after-ms', () => {
    expect(parseRetryAfter({ 'retry-after': '7' }, now)).toBe(7000);
    expect(parseRetryAfter({ 'retry-after': '0.5' }, now)).toBe(500);
    expect(parseRetryAfter({ 'retry-after-ms': '1500', 'retry-after': '9' }, now)).toBe(1500);
  });
  it('reads the HTTP-date form and never goes negative', () => {
    expect(parseRetryAfter({ 'retry-after': 'Sun, 22 Nov 2026 12:00:30 GMT' }, now)).toBe(30_000);
    expect(parseRetryAfter({ 'retry-after': 'Sun, 22 Nov 2026 11:00:00 GMT' }, now)).toBe(0);
  });
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter({}, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
  });
});

describe('readRetryAfter (no clock: the HTTP date stays absolute)', () => {
  it('gives a delay for seconds and retry-after-ms, the absolute time for an HTTP date', () => {
    expect(readRetryAfter({ 'retry-after': '7' })).toEqual({ delayMs: 7000 });
    expect(readRetryAfter({ 'retry-after-ms': '250' })).toEqual({ delayMs: 250 });
    expect(readRetryAfter({ 'retry-after': 'Sun, 22 Nov 2026 12:00:30 GMT' })).toEqual({ at: Date.parse('2026-11-22T12:00:30Z') });
    expect(readRetryAfter({ 'retry-after': 'later' })).toBeUndefined();
  });

  it('upstreamFailure keeps the HTTP date as retryAt and the seconds form as retryAfterMs', () => {
    const dated = upstreamFailure({ provider: 'p', status: 429, message: '', headers: { 'retry-after': 'Sun, 22 Nov 2026 12:00:30 GMT' } });
    expect(dated).toMatchObject({ retryAt: Date.parse('2026-11-22T12:00:30Z'), retryAfterMs: undefined });
    const seconds = upstreamFailure({ provider: 'p', status: 503, message: '', headers: { 'retry-after': '3' } });
    expect(seconds).toMatchObject({ retryAt: undefined, retryAfterMs: 3000 });
  });
});
