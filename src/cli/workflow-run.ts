import type { WorkflowService } from '../app/workflow-service.js';
import { ConfigError } from '../core/errors.js';
import type { JsonObject } from '../engine/workflow-instance.js';
import { describeInstance } from './workflow-status.js';

/**
 * `circuit-breaker workflow run WORKFLOW [--data JSON]`: starts an instance of the latest version in the
 * configured store and fires its automatic transitions that need no action; actions are run by the
 * server's outbox worker (start `circuit-breaker serve` on the same store). Prints the instance.
 */
export async function workflowRun(
  workflows: WorkflowService,
  workflowId: string,
  options: { data?: string; variables?: string; json?: boolean },
): Promise<number> {
  const instance = await workflows.startInstance(workflowId, {
    initialData: jsonOption(options.data, '--data'),
    variables: jsonOption(options.variables, '--variables'),
  });
  process.stdout.write(`${options.json ? JSON.stringify(instance, null, 2) : describeInstance(instance)}\n`);
  return 0;
}

function jsonOption(text: string | undefined, flag: string): JsonObject {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${flag} must be a JSON object: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`${flag} must be a JSON object, like '{"doc": "a.pdf"}'`);
  return value as JsonObject;
}
