import { describe, expect, it } from 'vitest';
import { eventSubject, fromToken, natsNames, parseTimerKey, timerKey, token } from './nats-names.js';

describe('NATS names', () => {
  it.each(['wi_0af3', 'review-2', 'a.b', 'a b', 'x*y>z', 'wi:remind:2', 'é€', '=3A'])('%s survives as one key token', (id) => {
    const encoded = token(id);
    expect(encoded).toMatch(/^[A-Za-z0-9_=-]+$/);
    expect(fromToken(encoded)).toBe(id);
  });

  it('keeps ids that are already safe readable, and names one stream and four buckets per prefix', () => {
    expect(token('wi_0af3-b')).toBe('wi_0af3-b');
    const names = natsNames('cb');
    expect(names).toEqual({
      stream: 'CB_WORKFLOW_EVENTS',
      subjectPrefix: 'cb.workflows',
      definitions: 'cb_wf_definitions',
      instances: 'cb_wf_instances',
      outbox: 'cb_wf_outbox',
      timers: 'cb_wf_timers',
    });
    expect(eventSubject(names, 'review', 'wi.1')).toBe('cb.workflows.review.events.wi=2E1');
    expect(() => natsNames('bad.prefix')).toThrow(/letters, digits/);
  });

  it('sorts timer keys by due time and reads them back', () => {
    const keys = [timerKey(10_000, 'b'), timerKey(9, 'z'), timerKey(1_700_000_000_000, 'a:1')].sort();
    expect(keys.map(parseTimerKey)).toEqual([
      { dueAt: 9, timerId: 'z' },
      { dueAt: 10_000, timerId: 'b' },
      { dueAt: 1_700_000_000_000, timerId: 'a:1' },
    ]);
    expect(parseTimerKey('not-a-timer')).toBeUndefined();
  });
});
