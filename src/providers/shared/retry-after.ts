/**
 * Reads how long an upstream asks us to wait, in milliseconds: `retry-after-ms`, then `Retry-After` as
 * seconds or as an HTTP date (RFC 9110 §10.2.3). Returns undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(headers: Record<string, string | string[] | undefined>, now: number): number | undefined {
  const read = readRetryAfter(headers);
  if (read === undefined) return undefined;
  return 'delayMs' in read ? read.delayMs : Math.max(0, read.at - now);
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The same headers, without a clock: a delay for `retry-after-ms` and the seconds form, or the absolute
 * time (epoch ms) of the HTTP-date form, for the caller to subtract its own clock's now from.
 */
export function readRetryAfter(headers: Record<string, string | string[] | undefined>): { delayMs: number } | { at: number } | undefined {
  const milliseconds = first(headers['retry-after-ms']);
  if (milliseconds !== undefined && /^\d+(\.\d+)?$/.test(milliseconds.trim())) return { delayMs: Math.ceil(Number(milliseconds)) };
  const value = first(headers['retry-after'])?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return { delayMs: Math.ceil(Number(value) * 1000) };
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : { at: date };
}
