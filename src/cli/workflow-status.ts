import type { WorkflowService } from '../app/workflow-service.js';
import { currentPlace } from '../app/workflow-service.js';
import type { WorkflowInstance } from '../engine/workflow-instance.js';

/**
 * `circuit-breaker workflow status INSTANCE`: the instance's status, marking, tokens, what can fire now
 * (with each guard's verdict) and its last events.
 */
export async function workflowStatus(workflows: WorkflowService, instanceId: string, options: { json?: boolean }): Promise<number> {
  const { instance, transitions } = await workflows.transitions(instanceId);
  const events = await workflows.history(instanceId);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ instance, transitions, events }, null, 2)}\n`);
    return 0;
  }
  const lines = [describeInstance(instance), 'transitions:'];
  for (const transition of transitions) {
    const state = transition.enabled ? (transition.guard?.passed === false ? 'enabled, guard refuses' : 'enabled') : 'not enabled';
    lines.push(`  ${transition.id} (${transition.trigger}${transition.action === 'none' ? '' : `, ${transition.action}`}): ${state}`);
    if (transition.enabled && transition.guard && transition.guard.explanation !== 'no guard')
      lines.push(...transition.guard.explanation.split('\n').map((line) => `      ${line}`));
  }
  lines.push('last events:');
  for (const event of events.slice(-10))
    lines.push(`  #${event.sequence} ${new Date(event.at).toISOString()} ${event.type}${event.firingId ? ` (${event.firingId})` : ''}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** Instance summary lines for the CLI. */
export function describeInstance(instance: WorkflowInstance): string {
  const marking =
    Object.entries(instance.marking)
      .map(([place, count]) => `${place}: ${count}`)
      .join(', ') || '(no tokens)';
  const lines = [
    `instance ${instance.id} of ${instance.workflowId} v${instance.version}`,
    `status: ${instance.status}${instance.error ? ` (${instance.error.code}: ${instance.error.message})` : ''}`,
    `revision: ${instance.revision}`,
    `marking: ${marking}`,
  ];
  const place = currentPlace(instance);
  if (place !== null) lines.push(`current place: ${place}`);
  return lines.join('\n');
}
