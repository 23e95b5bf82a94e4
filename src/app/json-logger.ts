import type { Logger } from '../core/logger.js';
import { noRedaction } from '../core/redact.js';
import type { Redact } from '../core/redact.js';

const levels = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof levels;

/**
 * Structured JSON lines (`{"time","level","msg",...fields}`) to a stream, stderr by default. Secrets
 * are `Secret` objects that serialise as `[redacted…]`, so fields cannot leak them.
 */
export function createJsonLogger(
  level: LogLevel,
  redact: Redact = noRedaction,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = levels[level];
  const log = (name: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (levels[name] < threshold) return;
    write(`${redact(JSON.stringify({ time: new Date().toISOString(), level: name, msg: message, ...fields }))}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
