import type { CelEnv } from '@bufbuild/cel';
import type { ParsedCel } from './cel-ast.js';
import { explainCel } from './cel-explain.js';
import type { CelExplainer } from './cel-explain.js';
import { celVerdict, runProgram } from './cel-outcome.js';
import type { CelProgram } from './cel-outcome.js';
import type { CompiledRule, RuleData } from './compiled-rule.js';
import type { RuleIssue } from './rule-issue.js';
import type { ExplainedVerdict, RuleVerdict } from './rule-verdict.js';

/** A compiled CEL rule: the planned program, and (built on first use) the clause tree for explanations. */
export class CelRule implements CompiledRule {
  readonly kind = 'cel';
  private explainer: CelExplainer | undefined;

  constructor(
    readonly expression: string,
    readonly source: string,
    private readonly parsed: ParsedCel,
    private readonly program: CelProgram,
    private readonly environment: CelEnv,
    readonly variables: readonly string[],
    readonly warnings: readonly RuleIssue[],
  ) {}

  evaluate(data: RuleData): RuleVerdict {
    return celVerdict(runProgram(this.program, data), this.parsed, this.expression, data);
  }

  explain(data: RuleData): ExplainedVerdict {
    this.explainer ??= explainCel(this.parsed, this.expression, this.environment, this.variables);
    return { ...this.evaluate(data), explanation: this.explainer(data) };
  }
}
