import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';

/**
 * A secret value (an API key, a master key). It prints, logs and serialises as `[redacted]`, so it cannot
 * leak through a log line, an error message or a JSON response by accident; `reveal()` is the one way to
 * read it, and only the code that sends it upstream calls it.
 */
export class Secret {
  readonly #value: string;
  /** Where the value came from (`env:OPENAI_API_KEY`), safe to print. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return `[redacted from ${this.source}]`;
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}

/**
 * Resolves a secret reference: `env:NAME` (the variable must be set and non-empty) or `file:/path`
 * (the file's content, trimmed). Returns an error sentence instead of throwing, so the config loader can
 * report every problem at once.
 */
export function resolveSecretReference(reference: string, env: Record<string, string | undefined>): Secret | { error: string } {
  if (reference.startsWith('env:')) {
    const name = reference.slice(4);
    const value = env[name];
    if (value === undefined || value.trim() === '') return { error: `environment variable ${name} is not set` };
    return new Secret(value.trim(), reference);
  }
  if (reference.startsWith('file:')) {
    const path = reference.slice(5);
    try {
      const value = readFileSync(path, 'utf8').trim();
      if (value === '') return { error: `file ${path} is empty` };
      return new Secret(value, reference);
    } catch (error) {
      return { error: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }
  return {
    error: 'a secret must be a reference, `env:NAME` or `file:/path`, not a literal value (keep keys out of config files)',
  };
}
