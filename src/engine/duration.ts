/**
 * Durations in definitions: a number of milliseconds, or text such as `500ms`, `30s`, `5m`, `2h`, `1d`,
 * or a sum of them (`1h30m`). Pure; used by timer triggers and the outbox's retry delays.
 */
const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const partPattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Milliseconds for a duration, or undefined when the text is not one. Negative and non-finite numbers are refused. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  partPattern.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = partPattern.exec(text); match !== null; match = partPattern.exec(text)) {
    total += Number(match[1]) * (units[match[2] ?? ''] ?? Number.NaN);
    consumed = partPattern.lastIndex;
  }
  return consumed === text.length && Number.isFinite(total) ? Math.round(total) : undefined;
}
