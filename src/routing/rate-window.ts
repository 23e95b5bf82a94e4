import type { Clock } from '../core/clock.js';

/**
 * A provider's configured `rpm`/`tpm` limits, counted over a sliding minute, so the gateway stops
 * sending before the provider has to answer 429.
 */
export class RateWindow {
  private readonly entries: { at: number; tokens: number }[] = [];

  constructor(
    private readonly limits: { rpm?: number; tpm?: number },
    private readonly clock: Clock,
  ) {}

  /** Would one more request of `tokens` stay within the limits? */
  allows(tokens: number): boolean {
    if (this.limits.rpm === undefined && this.limits.tpm === undefined) return true;
    this.prune();
    if (this.limits.rpm !== undefined && this.entries.length + 1 > this.limits.rpm) return false;
    if (this.limits.tpm !== undefined) {
      const used = this.entries.reduce((sum, entry) => sum + entry.tokens, 0);
      if (used + tokens > this.limits.tpm && this.entries.length > 0) return false;
    }
    return true;
  }

  record(tokens: number): void {
    if (this.limits.rpm === undefined && this.limits.tpm === undefined) return;
    this.entries.push({ at: this.clock.now(), tokens });
  }

  /** Epoch ms when the oldest counted request leaves the window. */
  availableAt(): number {
    this.prune();
    return (this.entries[0]?.at ?? this.clock.now()) + 60_000;
  }

  private prune(): void {
    const horizon = this.clock.now() - 60_000;
    let drop = 0;
    while (drop < this.entries.length && (this.entries[drop]?.at ?? 0) <= horizon) drop++;
    if (drop > 0) this.entries.splice(0, drop);
  }
}
