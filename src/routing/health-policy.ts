/**
 * When a deployment or key counts as unhealthy, and for how long it is left alone. Defaults follow the
 * seed: healthy means an error rate under 5 % (over a minimum sample), an average latency under 10 s,
 * and not rate-limited.
 */
export interface HealthPolicy {
  /** Sliding window over which the error rate is computed, ms. */
  windowMs: number;
  /** Outcomes needed in the window before the error rate can open the circuit. */
  minSamples: number;
  /** Error rate (0–1) at or above which the circuit opens. */
  errorRateThreshold: number;
  /** Consecutive failures that open the circuit whatever the sample size. */
  consecutiveFailures: number;
  /** EWMA latency at or above which a deployment is reported unhealthy (and ordered last). */
  latencyThresholdMs: number;
  /** First open period, ms; doubles after each failed probe, up to `maxOpenMs`. */
  openMs: number;
  maxOpenMs: number;
  /** Cooldown of a key after a 429 without `Retry-After`, ms. */
  rateLimitCooldownMs: number;
}

export const defaultHealthPolicy: HealthPolicy = {
  windowMs: 60_000,
  minSamples: 20,
  errorRateThreshold: 0.05,
  consecutiveFailures: 3,
  latencyThresholdMs: 10_000,
  openMs: 30_000,
  maxOpenMs: 300_000,
  rateLimitCooldownMs: 10_000,
};
