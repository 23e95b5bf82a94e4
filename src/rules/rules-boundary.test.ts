import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as rules from './index.js';

const folder = dirname(fileURLToPath(import.meta.url));
const sources = readdirSync(folder).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));

describe('the rules layer', () => {
  it('is pure: its code imports only its own files, core/ and its two libraries', () => {
    const allowed = [/^\.\/[a-z-]+\.js$/, /^\.\.\/core\/[a-z-]+\.js$/, /^@bufbuild\/(cel|re2)$/, /^node:module$/];
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

  it('exports the documented public API from index.ts', () => {
    expect(Object.keys(rules).sort()).toEqual(
      [
        'LegacySyntax',
        'RuleErrorCode',
        'RuleIssueCode',
        'RuleOperator',
        'RuleRegistry',
        'compileRule',
        'evaluateRule',
        'formatExplanation',
        'isCompiledRule',
        'isRuleRef',
        'maxExpressionLength',
        'maxRegexLength',
        'maxRuleDepth',
        'parseRuleRef',
        'translateLegacyCondition',
      ].sort(),
    );
  });
});
