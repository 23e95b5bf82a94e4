import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import type { PromExposition } from '../support/prometheus-text.js';

/** What a registry exposes: each sample name with the values seen for each of its labels. */
export type ExposedMetrics = Map<string, Map<string, Set<string>>>;

/** Indexes an exposition by sample name (`cb_x_bucket`, `cb_x_sum` and `cb_x_count` for histograms). */
export function exposedMetrics(exposition: PromExposition): ExposedMetrics {
  const metrics: ExposedMetrics = new Map();
  for (const sample of exposition.samples) {
    const labels = metrics.get(sample.name) ?? new Map<string, Set<string>>();
    metrics.set(sample.name, labels);
    for (const [name, value] of Object.entries(sample.labels)) labels.set(name, (labels.get(name) ?? new Set()).add(value));
  }
  return metrics;
}

/** The values a closed label can take, beyond those a scrape happens to show (every `ErrorCode` for `code`). */
export type KnownValues = ReadonlyMap<string, readonly string[]>;

/** `a|b(c|d)` → `a`, `b(c|d)`: splits on the `|` outside parentheses and brackets. */
function topLevelAlternatives(pattern: string): string[] {
  const alternatives: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '\\') index++;
    else if (char === '(' || char === '[') depth++;
    else if (char === ')' || char === ']') depth--;
    else if (char === '|' && depth === 0) {
      alternatives.push(pattern.slice(start, index));
      start = index + 1;
    }
  }
  return [...alternatives, pattern.slice(start)];
}

/** Grafana's interval variables are not PromQL; they stand in for a duration. */
function withoutGrafanaIntervals(expression: string): string {
  return expression.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
}

function children(node: SyntaxNode, name: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) if (child.name === name) found.push(child);
  return found;
}

/**
 * Every problem with one PromQL expression against what the registry exposes: a syntax error, a metric
 * that does not exist, a label matcher on a label the metric lacks or with a value it never takes
 * (Grafana variables such as `$provider` are not judged), a grouping label (`by`, `on`, …) that none of
 * the expression's metrics has. A matcher's value may be one the exposition shows or one of `known`
 * (the closed value sets of labels such as `code`). An empty list means the expression cannot drift
 * from the code.
 */
export function checkExpression(expression: string, exposed: ExposedMetrics, known: KnownValues = new Map()): string[] {
  const text = withoutGrafanaIntervals(expression);
  const problems: string[] = [];
  const metricsUsed: string[] = [];
  const groupingLabels: string[] = [];
  const slice = (node: SyntaxNode) => text.slice(node.from, node.to);
  parser.parse(text).iterate({
    enter: (ref) => {
      const node = ref.node;
      if (node.type.isError) problems.push(`syntax error at ${node.from}: ${JSON.stringify(text.slice(node.from, node.from + 20))}`);
      if (node.name === 'GroupingLabels') groupingLabels.push(...children(node, 'LabelName').map(slice));
      if (node.name !== 'VectorSelector') return;
      const identifier = children(node, 'Identifier')[0];
      if (!identifier) return void problems.push(`selector without a metric name: ${slice(node)}`);
      const metric = slice(identifier);
      metricsUsed.push(metric);
      const labels = exposed.get(metric);
      if (!labels) return void problems.push(`unknown metric ${metric}`);
      for (const matchers of children(node, 'LabelMatchers')) {
        for (const matcher of children(matchers, 'UnquotedLabelMatcher')) {
          const [nameNode] = children(matcher, 'LabelName');
          const [operatorNode] = children(matcher, 'MatchOp');
          const [valueNode] = children(matcher, 'StringLiteral');
          if (!nameNode || !operatorNode || !valueNode) continue;
          const label = slice(nameNode);
          const value = JSON.parse(slice(valueNode)) as string;
          const seen = labels.get(label);
          if (!seen) {
            problems.push(`${metric} has no label ${label}`);
            continue;
          }
          const operator = slice(operatorNode);
          if (value.includes('$') || operator === '!=' || operator === '!~') continue;
          const values = [...seen, ...(known.get(label) ?? [])];
          // Each alternative of `a|b` must match something, so one right branch cannot hide a typo in another.
          for (const alternative of operator === '=' ? [value] : topLevelAlternatives(value)) {
            const pattern = operator === '=' ? undefined : new RegExp(`^(?:${alternative})$`);
            if (!values.some((candidate) => (pattern ? pattern.test(candidate) : candidate === alternative))) {
              problems.push(`${metric}{${label}${operator}"${value}"}: ${alternative} matches none of ${[...new Set(values)].join(', ')}`);
            }
          }
        }
      }
    },
  });
  for (const label of groupingLabels) {
    if (!metricsUsed.some((metric) => exposed.get(metric)?.has(label))) problems.push(`no metric of the expression has label ${label}`);
  }
  return problems;
}
