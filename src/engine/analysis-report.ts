/**
 * The analysis report of a definition, returned at publish and by `workflow check` (docs/workflows.md,
 * "Analysis"). Plain JSON. Errors refuse publication; warnings and notes are shown.
 */

export type AnalysisSeverity = 'error' | 'warning' | 'info';

export const AnalysisCode = {
  invalidShape: 'invalid_shape',
  duplicateId: 'duplicate_id',
  unknownPlace: 'unknown_place',
  noStart: 'no_start',
  noEnd: 'no_end',
  unreachable: 'unreachable',
  cannotReachEnd: 'cannot_reach_end',
  sourceTransition: 'source_transition',
  sinkTransition: 'sink_transition',
  invalidGuard: 'invalid_guard',
  invalidSchema: 'invalid_schema',
  invalidAction: 'invalid_action',
  deadlock: 'deadlock',
  deadTransition: 'dead_transition',
  unboundedPlace: 'unbounded_place',
  improperCompletion: 'improper_completion',
  boundReached: 'bound_reached',
  unsound: 'unsound',
} as const;
export type AnalysisCode = (typeof AnalysisCode)[keyof typeof AnalysisCode];

export interface AnalysisIssue {
  severity: AnalysisSeverity;
  code: AnalysisCode;
  message: string;
  /** Where in the definition (`transitions[2].inputs[0].place`), for shape and structure issues. */
  path?: string;
  place?: string;
  transition?: string;
  /** A firing sequence from the initial marking that shows the problem (deadlocks, unbounded places). */
  sequence?: string[];
  /** The marking the sequence reaches. */
  marking?: Record<string, number>;
}

export interface ReachabilitySummary {
  /** The most markings explored; the exploration stops there and says so. */
  bound: number;
  statesExplored: number;
  /** True when every reachable marking was explored (the verdicts below are then exact, guards aside). */
  complete: boolean;
  deadlocks: { marking: Record<string, number>; sequence: string[] }[];
  deadTransitions: string[];
  unboundedPlaces: { place: string; sequence: string[] }[];
  /** The most tokens seen in each place. */
  maxTokens: Record<string, number>;
}

export interface SoundnessVerdict {
  /** Workflow nets only: one start place and one end place. */
  applicable: boolean;
  /** `unknown` when the exploration was cut by the bound or a place is unbounded. */
  sound: boolean | 'unknown';
  /** From every reachable marking, the marking with one token in the end place is reachable. */
  optionToComplete: boolean | 'unknown';
  /** When the end place is marked, no other token is left. */
  properCompletion: boolean | 'unknown';
  noDeadTransitions: boolean | 'unknown';
  reasons: string[];
}

export interface AnalysisReport {
  /** False when any issue is an error: the definition cannot be published. */
  ok: boolean;
  issues: AnalysisIssue[];
  reachability: ReachabilitySummary | undefined;
  soundness: SoundnessVerdict | undefined;
  /** What the analysis assumed (guards "may pass"). */
  assumptions: string[];
}

/** The report as text for the CLI: issues by severity, then the reachability and soundness summary. */
export function formatReport(report: AnalysisReport): string {
  const lines: string[] = [report.ok ? '✓ the definition can be published' : '✗ the definition has errors and cannot be published'];
  const mark = { error: '✗ error', warning: '! warning', info: '· note' } as const;
  for (const issue of report.issues) {
    const where = issue.path ? ` (${issue.path})` : '';
    lines.push(`${mark[issue.severity]} [${issue.code}] ${issue.message}${where}`);
    if (issue.sequence)
      lines.push(`    firing sequence: ${issue.sequence.length === 0 ? '(initial marking)' : issue.sequence.join(' → ')}`);
  }
  const reach = report.reachability;
  if (reach) {
    lines.push(
      `reachability: ${reach.statesExplored} marking(s) explored (bound ${reach.bound}${reach.complete ? ', complete' : ', cut at the bound'})`,
    );
  }
  const sound = report.soundness;
  if (sound?.applicable) {
    lines.push(`soundness: ${sound.sound === true ? 'sound' : sound.sound === false ? 'not sound' : 'unknown'}`);
    for (const reason of sound.reasons) lines.push(`    ${reason}`);
  } else if (sound) {
    lines.push('soundness: not applicable (a workflow net has exactly one start and one end place)');
  }
  for (const assumption of report.assumptions) lines.push(`assumption: ${assumption}`);
  return lines.join('\n');
}
