/** The value a bounded label takes once its set is full, or for a value outside a closed set. */
export const otherLabel = 'other';

/** The value a label takes when the sample has none (a request refused before a provider was chosen). */
export const noneLabel = 'none';

/** Label values longer than this are cut, so one odd model name cannot make a series key of kilobytes. */
const maxValueLength = 120;

/**
 * A Prometheus label whose values come from a bounded set, so the metrics store cannot be blown up by
 * whatever a client sends (lessons-from-peers, lesson 15). Two kinds:
 *
 * - **closed**: only the values given up front (configured provider names, the `ErrorCode` set); any
 *   other value becomes `other`.
 * - **open, capped**: the first `limit` distinct values seen are kept as they are, later new ones become
 *   `other` (model names, which clients choose). Values already admitted stay admitted.
 *
 * `value()` is one `Set` lookup on the hot path; admitting a value happens once per distinct value.
 */
export class BoundedLabel {
  private readonly admitted: Set<string>;

  private constructor(
    initial: Iterable<string>,
    private readonly limit: number,
    private readonly closed: boolean,
  ) {
    this.admitted = new Set(initial);
  }

  /** A label that takes only `values` (plus `other` and `none`). */
  static closed(values: Iterable<string>): BoundedLabel {
    return new BoundedLabel(values, 0, true);
  }

  /** A label that admits the first `limit` distinct values it sees, then answers `other`. */
  static capped(limit: number): BoundedLabel {
    return new BoundedLabel([], limit, false);
  }

  /** The label value to record for `raw`: itself when admitted, `none` when absent, else `other`. */
  value(raw: string | undefined): string {
    if (raw === undefined || raw === '') return noneLabel;
    if (this.admitted.has(raw)) return raw;
    if (this.closed) return otherLabel;
    const value = raw.length > maxValueLength ? raw.slice(0, maxValueLength) : raw;
    if (this.admitted.has(value)) return value;
    if (this.admitted.size >= this.limit) return otherLabel;
    this.admitted.add(value);
    return value;
  }

  /** How many distinct values are admitted (for tests and docs). */
  get size(): number {
    return this.admitted.size;
  }
}
