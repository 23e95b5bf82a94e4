/**
 * Replaces known secret values (provider keys, the admin key) with `[redacted]` in text that leaves the
 * process: error messages (an upstream may echo the key it was sent) and log lines. Values shorter than
 * 8 characters are not treated as secrets (they would mangle ordinary text).
 */
export type Redact = (text: string) => string;

export const noRedaction: Redact = (text) => text;

export function createRedactor(secrets: Iterable<string>): Redact {
  const values = [...new Set([...secrets].filter((secret) => secret.length >= 8))].sort((left, right) => right.length - left.length);
  if (values.length === 0) return noRedaction;
  return (text) => {
    let result = text;
    for (const value of values) if (result.includes(value)) result = result.split(value).join('[redacted]');
    return result;
  };
}
