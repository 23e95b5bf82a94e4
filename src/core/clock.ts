/** Time as a port, so time-based logic (timeouts, cooldowns, keep-alives) is testable without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
