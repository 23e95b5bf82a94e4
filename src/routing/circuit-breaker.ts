import type { Clock } from '../core/clock.js';
import type { HealthPolicy } from './health-policy.js';

export const CircuitState = { closed: 'closed', open: 'open', halfOpen: 'half_open' } as const;
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];

export interface CircuitSnapshot {
  state: CircuitState;
  errorRate: number;
  samples: number;
  consecutiveFailures: number;
  /** Epoch ms until which the circuit stays open (0 when closed). */
  openUntil: number;
  latencyMs: number | undefined;
  ttftMs: number | undefined;
  lastError: string | undefined;
}

/** Outcomes kept per circuit: the error rate is over the last minute, or the last 1,000 outcomes if fewer. */
const windowCapacity = 1000;

/**
 * One deployment's circuit: closed → open (too many failures) → half-open (after the open period one
 * probe request is let through) → closed (the probe succeeded) or open again for twice as long. Also
 * keeps EWMA latency and time to first token. All time comes from the injected clock.
 */
export class CircuitBreaker {
  /** The outcome window: a fixed ring of the last `windowCapacity` outcomes (time, ok), oldest at `head`. */
  private readonly outcomeAt = new Float64Array(windowCapacity);
  private readonly outcomeOk = new Uint8Array(windowCapacity);
  private head = 0;
  private count = 0;
  private consecutive = 0;
  private openUntil = 0;
  private openFor: number;
  private probing = false;
  private halfOpen = false;
  private latency: number | undefined;
  private ttft: number | undefined;
  private lastError: string | undefined;
  /** The state last told to `onChange` (an open circuit turns half-open by time alone; that is told at the next probe). */
  private reported: CircuitState = CircuitState.closed;

  constructor(
    private readonly policy: HealthPolicy,
    private readonly clock: Clock,
    private readonly onChange?: (from: CircuitState, to: CircuitState) => void,
  ) {
    this.openFor = policy.openMs;
  }

  get state(): CircuitState {
    if (this.halfOpen) return CircuitState.halfOpen;
    if (this.openUntil === 0) return CircuitState.closed;
    return this.clock.now() < this.openUntil ? CircuitState.open : CircuitState.halfOpen;
  }

  /** May a request go through now? In half-open, only one probe at a time. */
  available(): boolean {
    const state = this.state;
    if (state === CircuitState.closed) return true;
    if (state === CircuitState.open) return false;
    return !this.probing;
  }

  /** Epoch ms when this circuit will next let a request through (now when it does). */
  availableAt(): number {
    return this.available() ? this.clock.now() : Math.max(this.openUntil, this.clock.now());
  }

  /** Marks the start of a request; returns whether it is the half-open probe. */
  begin(): boolean {
    if (this.state !== CircuitState.halfOpen) return false;
    this.halfOpen = true;
    this.probing = true;
    this.report();
    return true;
  }

  /**
   * The request ended without saying anything about this deployment's health (a client error, a
   * context-length refusal, the client left): a half-open probe is released so the next request probes.
   */
  cancel(): void {
    this.probing = false;
  }

  success(latencyMs: number, ttftMs?: number): void {
    this.record(true);
    this.consecutive = 0;
    this.latency = ewma(this.latency, latencyMs);
    if (ttftMs !== undefined) this.ttft = ewma(this.ttft, ttftMs);
    if (this.halfOpen || this.openUntil !== 0) {
      this.halfOpen = false;
      this.probing = false;
      this.openUntil = 0;
      this.openFor = this.policy.openMs;
      this.count = 0;
    }
    this.report();
  }

  /** A failure that says something about this deployment's health (not the client's fault). */
  failure(reason: string, retryAfterMs?: number): void {
    this.record(false);
    this.consecutive++;
    this.lastError = reason;
    if (this.halfOpen) {
      this.halfOpen = false;
      this.probing = false;
      this.openFor = Math.min(this.openFor * 2, this.policy.maxOpenMs);
      this.open(Math.max(this.openFor, retryAfterMs ?? 0));
      this.report();
      return;
    }
    const { rate, samples } = this.errorRate();
    if (
      this.consecutive >= this.policy.consecutiveFailures ||
      (samples >= this.policy.minSamples && rate >= this.policy.errorRateThreshold) ||
      retryAfterMs !== undefined
    ) {
      this.open(Math.max(this.openFor, retryAfterMs ?? 0));
    }
    this.report();
  }

  snapshot(): CircuitSnapshot {
    const { rate, samples } = this.errorRate();
    return {
      state: this.state,
      errorRate: rate,
      samples,
      consecutiveFailures: this.consecutive,
      openUntil: this.state === CircuitState.closed ? 0 : this.openUntil,
      latencyMs: this.latency,
      ttftMs: this.ttft,
      lastError: this.lastError,
    };
  }

  get latencyMs(): number | undefined {
    return this.latency;
  }

  get ttftMs(): number | undefined {
    return this.ttft;
  }

  private report(): void {
    const state = this.state;
    if (state === this.reported) return;
    const from = this.reported;
    this.reported = state;
    this.onChange?.(from, state);
  }

  /** Opening only ever lengthens a cooldown: a second, shorter one does not cut the first short. */
  private open(durationMs: number): void {
    this.openUntil = Math.max(this.openUntil, this.clock.now() + durationMs);
  }

  /** Appends an outcome: expired ones leave from the old end, and a full ring overwrites its oldest. O(1) amortised, no allocation. */
  private record(ok: boolean): void {
    const now = this.clock.now();
    this.expire(now - this.policy.windowMs);
    if (this.count === windowCapacity) {
      this.head = (this.head + 1) % windowCapacity;
      this.count--;
    }
    const at = (this.head + this.count) % windowCapacity;
    this.outcomeAt[at] = now;
    this.outcomeOk[at] = ok ? 1 : 0;
    this.count++;
  }

  private expire(horizon: number): void {
    while (this.count > 0 && (this.outcomeAt[this.head] as number) < horizon) {
      this.head = (this.head + 1) % windowCapacity;
      this.count--;
    }
  }

  private errorRate(): { rate: number; samples: number } {
    const horizon = this.clock.now() - this.policy.windowMs;
    let samples = 0;
    let failures = 0;
    for (let offset = 0; offset < this.count; offset++) {
      const at = (this.head + offset) % windowCapacity;
      if ((this.outcomeAt[at] as number) < horizon) continue;
      samples++;
      if (this.outcomeOk[at] === 0) failures++;
    }
    return { rate: samples === 0 ? 0 : failures / samples, samples };
  }
}

function ewma(previous: number | undefined, sample: number, weight = 0.3): number {
  return previous === undefined ? sample : previous + weight * (sample - previous);
}
