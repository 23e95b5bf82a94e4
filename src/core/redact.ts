/**
 * Replaces known secret values (provider keys, the admin key) with `[redacted]` in text that leaves the
 * process: error messages (an upstream may echo the key it was sent) and log lines. Values shorter than
 * 8 characters are not treated as secrets (they would mangle ordinary text).
 */
export type Redact = (text: string) => string;

export const noRedaction: Redact = (text) => text;

/** A redactor that can learn secrets added at run time (provider keys through the admin API, new gateway keys). */
export interface Redactor extends Redact {
  add(secret: string): void;
}

export function createRedactor(secrets: Iterable<string>): Redactor {
  let values: string[] = [];
  const add = (secret: string): void => {
    if (secret.length < 8 || values.includes(secret)) return;
    values = [...values, secret].sort((left, right) => right.length - left.length);
  };
  for (const secret of secrets) add(secret);
  const redact = (text: string): string => {
    let result = text;
    for (const value of values) if (result.includes(value)) result = result.split(value).join('[redacted]');
    return result;
  };
  return Object.assign(redact, { add });
}
