import { analyzeDefinition } from '../engine/analysis.js';
import { formatReport } from '../engine/analysis-report.js';
import { readDefinitionFile } from './workflow-file.js';

/**
 * `circuit-breaker workflow check FILE`: analyses a definition file (shape, structure, guards,
 * bounded reachability, soundness) without a server or a store, prints the report and returns the exit
 * code: 0 when it could be published, 1 when it has errors.
 */
export function workflowCheck(file: string, options: { json?: boolean }): number {
  const { report } = analyzeDefinition(readDefinitionFile(file));
  process.stdout.write(`${options.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
  return report.ok ? 0 : 1;
}
