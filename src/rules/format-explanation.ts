import { renderValue } from './rule-value.js';
import type { RuleTrace } from './rule-verdict.js';

/**
 * An explanation as indented text, one line per node, for logs and the CLI:
 *
 * ```
 * ✗ and
 *   ✓ data.score gte 5 (saw 7)
 *   ✗ data.status eq "approved" (saw "draft")
 * ```
 * `✓` passed, `✗` failed, `!` error (its message follows).
 */
export function formatExplanation(trace: RuleTrace, indent = ''): string {
  const mark = trace.error !== undefined ? '!' : trace.passed ? '✓' : '✗';
  const error = trace.error === undefined ? '' : ` — ${trace.error.code}: ${trace.error.message}`;
  switch (trace.type) {
    case 'and':
    case 'or':
      return [`${indent}${mark} ${trace.type}${error}`, ...trace.clauses.map((clause) => formatExplanation(clause, `${indent}  `))].join(
        '\n',
      );
    case 'not':
      return [`${indent}${mark} not${error}`, formatExplanation(trace.clause, `${indent}  `)].join('\n');
    case 'condition': {
      const expected = 'expected' in trace ? ` ${renderValue(trace.expected)}` : '';
      const seen = trace.found ? `saw ${renderValue(trace.actual)}` : 'missing';
      return `${indent}${mark} ${trace.field} ${trace.op}${expected} (${seen})${error}`;
    }
    case 'expression': {
      const seen = trace.references.map((reference) => `${reference.path} = ${reference.found ? renderValue(reference.value) : 'missing'}`);
      return `${indent}${mark} ${trace.source}${seen.length > 0 ? ` (${seen.join(', ')})` : ''}${error}`;
    }
  }
}
