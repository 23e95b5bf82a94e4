import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestBatcher } from './request-batcher.js';

interface Tracked {
  status: 'pending' | 'resolved' | 'rejected';
  error: unknown;
}

function track(promise: Promise<void>): Tracked {
  const state: Tracked = { status: 'pending', error: undefined };
  promise.then(
    () => (state.status = 'resolved'),
    (error: unknown) => {
      state.status = 'rejected';
      state.error = error;
    },
  );
  return state;
}

/** Lets settled promises run their callbacks (timers are fake; this is not one). */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await Promise.resolve();
}

const never = () => new AbortController().signal;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('RequestBatcher', () => {
  it('releases the whole batch as soon as maxBatchSize requests are waiting', async () => {
    const batcher = new RequestBatcher();
    const first = track(batcher.wait('small', 5_000, 3, never()));
    const second = track(batcher.wait('small', 5_000, 3, never()));
    await settle();
    expect([first.status, second.status]).toEqual(['pending', 'pending']);
    const third = track(batcher.wait('small', 5_000, 3, never()));
    await settle();
    expect([first.status, second.status, third.status]).toEqual(['resolved', 'resolved', 'resolved']);
    expect(vi.getTimerCount()).toBe(0); // the delay timer is cleared
  });

  it('releases after delayMs counted from the first arrival, whichever comes first', async () => {
    const batcher = new RequestBatcher();
    const first = track(batcher.wait('small', 1_000, 10, never()));
    vi.advanceTimersByTime(600);
    const second = track(batcher.wait('small', 1_000, 10, never()));
    vi.advanceTimersByTime(399);
    await settle();
    expect([first.status, second.status]).toEqual(['pending', 'pending']);
    vi.advanceTimersByTime(1);
    await settle();
    expect([first.status, second.status]).toEqual(['resolved', 'resolved']);
  });

  it('starts a new batch, with its own delay, after a release', async () => {
    const batcher = new RequestBatcher();
    await Promise.all([batcher.wait('small', 1_000, 2, never()), batcher.wait('small', 1_000, 2, never())]);
    const next = track(batcher.wait('small', 1_000, 2, never()));
    vi.advanceTimersByTime(999);
    await settle();
    expect(next.status).toBe('pending');
    vi.advanceTimersByTime(1);
    await settle();
    expect(next.status).toBe('resolved');
  });

  it('keeps the batches of different rules apart', async () => {
    const batcher = new RequestBatcher();
    const a = track(batcher.wait('rule-a', 1_000, 2, never()));
    const b = track(batcher.wait('rule-b', 1_000, 2, never()));
    await settle();
    expect([a.status, b.status]).toEqual(['pending', 'pending']);
    const a2 = track(batcher.wait('rule-a', 1_000, 2, never()));
    await settle();
    expect([a.status, a2.status, b.status]).toEqual(['resolved', 'resolved', 'pending']);
  });

  it('a batch of one is released at once', async () => {
    const batcher = new RequestBatcher();
    await expect(batcher.wait('solo', 60_000, 1, never())).resolves.toBeUndefined();
  });

  it('a waiter whose client leaves rejects with the abort reason and no longer counts toward the batch', async () => {
    const batcher = new RequestBatcher();
    const leaving = new AbortController();
    const first = track(batcher.wait('small', 5_000, 3, never()));
    const gone = track(batcher.wait('small', 5_000, 3, leaving.signal));
    const reason = new Error('client closed the connection');
    leaving.abort(reason);
    await settle();
    expect(gone).toEqual({ status: 'rejected', error: reason });
    const third = track(batcher.wait('small', 5_000, 3, never()));
    await settle();
    expect([first.status, third.status]).toEqual(['pending', 'pending']); // 2 waiting, not 3
    const fourth = track(batcher.wait('small', 5_000, 3, never()));
    await settle();
    expect([first.status, third.status, fourth.status]).toEqual(['resolved', 'resolved', 'resolved']);
  });

  it('an aborted waiter is not resolved by the delay either', async () => {
    const batcher = new RequestBatcher();
    const leaving = new AbortController();
    const stays = track(batcher.wait('small', 1_000, 10, never()));
    const gone = track(batcher.wait('small', 1_000, 10, leaving.signal));
    leaving.abort();
    vi.advanceTimersByTime(1_000);
    await settle();
    expect(stays.status).toBe('resolved');
    expect(gone.status).toBe('rejected');
    expect((gone.error as Error).name).toBe('AbortError');
  });

  it('rejects at once, without joining, when the signal is already aborted', async () => {
    const batcher = new RequestBatcher();
    const controller = new AbortController();
    const reason = new Error('already gone');
    controller.abort(reason);
    await expect(batcher.wait('small', 1_000, 2, controller.signal)).rejects.toBe(reason);
    const first = track(batcher.wait('small', 1_000, 2, never()));
    await settle();
    expect(first.status).toBe('pending');
    await batcher.wait('small', 1_000, 2, never());
    await settle();
    expect(first.status).toBe('resolved');
  });

  it('an abort after the release changes nothing and leaves no listener behind', async () => {
    const batcher = new RequestBatcher();
    const controller = new AbortController();
    const added = vi.spyOn(controller.signal, 'addEventListener');
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const waiting = track(batcher.wait('small', 1_000, 1, controller.signal));
    await settle();
    expect(waiting.status).toBe('resolved');
    expect(added).toHaveBeenCalledTimes(1);
    expect(removed).toHaveBeenCalledWith('abort', added.mock.calls[0]?.[1]);
    controller.abort();
    await settle();
    expect(waiting.status).toBe('resolved');
  });
});
