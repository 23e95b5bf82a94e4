import type { ActionSpec } from '../engine/workflow-definition.js';
import { parseAgentDefinition } from './agent-definition.js';

/**
 * The publish-time check of an `agent` action, for the engine analysis's `checkAction` hook: a named
 * agent must be defined (`known`), an inline one must be a valid definition. Other actions pass (the
 * functions layer checks its own).
 */
export function checkAgentAction(action: Exclude<ActionSpec, 'none'>, known: ReadonlySet<string>): string[] {
  if (!('agent' in action)) return [];
  const agent = action.agent;
  if (typeof agent === 'string') return known.has(agent) ? [] : [`agent '${agent}' is not defined`];
  const parsed = parseAgentDefinition({ id: typeof agent['id'] === 'string' ? agent['id'] : 'inline', ...agent });
  return parsed.ok ? [] : parsed.issues.map((issue) => `inline agent: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
}
