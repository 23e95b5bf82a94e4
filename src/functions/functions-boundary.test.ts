import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const folder = dirname(fileURLToPath(import.meta.url));
const sources = readdirSync(folder).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));

describe('the functions layer', () => {
  it('imports only its own files, core/, the rules barrel, node: modules and its libraries', () => {
    const allowed = [
      /^\.\/[a-z-]+\.js$/,
      /^\.\.\/core\/[a-z-]+\.js$/,
      /^\.\.\/rules\/index\.js$/,
      /^node:[a-z_/]+$/,
      /^(zod|ajv|ajv-formats|quickjs-emscripten-core|@jitl\/quickjs-wasmfile-release-sync)$/,
    ];
    for (const name of sources) {
      const text = readFileSync(join(folder, name), 'utf8');
      for (const [, specifier] of text.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
        expect(
          allowed.some((pattern) => pattern.test(specifier ?? '')),
          `${name} imports ${specifier}`,
        ).toBe(true);
      }
    }
  });
});
