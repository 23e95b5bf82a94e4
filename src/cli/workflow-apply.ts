import { formatReport } from '../engine/analysis-report.js';
import type { WorkflowService } from '../app/workflow-service.js';
import { readDefinitionFile } from './workflow-file.js';

/**
 * `circuit-breaker workflow apply FILE`: publishes the definition in the configured store — a new
 * workflow, or the next version when its `id` exists — and prints the analysis report. Exit code 1
 * when the analysis refused it.
 */
export async function workflowApply(workflows: WorkflowService, file: string): Promise<number> {
  const input = readDefinitionFile(file);
  const id =
    typeof input === 'object' && input !== null && typeof (input as { id?: unknown }).id === 'string'
      ? (input as { id: string }).id
      : undefined;
  const exists = id !== undefined && (await workflows.catalog.versions(id)).length > 0;
  const published = await workflows.catalog.publish(input, exists ? { kind: 'version', workflowId: id } : { kind: 'create' });
  process.stdout.write(`${formatReport(published.report)}\n`);
  if (!published.ok) return 1;
  process.stdout.write(`published ${published.record.workflowId} version ${published.record.version}\n`);
  return 0;
}
