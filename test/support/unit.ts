import { GatewayError } from '../../src/core/errors.js';

/** A clock for unit tests: it stands still until told to move. */
export function fakeClock(start: number) {
  const state = { now: start };
  return {
    now: () => state.now,
    set: (ms: number) => (state.now = ms),
    advance: (ms: number) => (state.now += ms),
  };
}

/** The `GatewayError` a promise rejects with; fails the test when it resolves or rejects with something else. */
export async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** The `GatewayError` a call throws; fails the test when it returns or throws something else. */
export function refusalOf(call: () => unknown): GatewayError {
  try {
    call();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}
