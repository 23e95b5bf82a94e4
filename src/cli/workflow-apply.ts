import { formatReport } from '../engine/analysis-report.js';
import { hasPlaceAgents, isPipelineInput, WorkflowRefusedError } from '../app/pipeline-service.js';
import type { PipelineService, PublishedPipeline } from '../app/pipeline-service.js';
import type { WorkflowService } from '../app/workflow-service.js';
import { readDefinitionFile } from './workflow-file.js';

/**
 * `circuit-breaker workflow apply FILE`: publishes the definition in the configured store — a new
 * workflow, or the next version when its `id` exists — and prints the analysis report. The seed's
 * `steps`/`agents` form is compiled (over the agents defined in the store) and a definition with
 * agents on places expanded, both through the pipelines. Exit code 1 when the analysis refused it.
 */
export async function workflowApply(workflows: WorkflowService, pipelines: PipelineService, file: string): Promise<number> {
  const input = readDefinitionFile(file);
  if (isPipelineInput(input)) return printed(() => pipelines.create(input, { versionIfExists: true }));
  const id =
    typeof input === 'object' && input !== null && typeof (input as { id?: unknown }).id === 'string'
      ? (input as { id: string }).id
      : undefined;
  const exists = id !== undefined && (await workflows.catalog.versions(id)).length > 0;
  const mode = exists ? { kind: 'version' as const, workflowId: id } : { kind: 'create' as const };
  if (hasPlaceAgents(input)) return printed(() => pipelines.publish(input, mode));
  const published = await workflows.catalog.publish(input, mode);
  process.stdout.write(`${formatReport(published.report)}\n`);
  if (!published.ok) return 1;
  process.stdout.write(`published ${published.record.workflowId} version ${published.record.version}\n`);
  return 0;
}

async function printed(publish: () => Promise<PublishedPipeline>): Promise<number> {
  try {
    const published = await publish();
    process.stdout.write(`${formatReport(published.report)}\n`);
    process.stdout.write(`published ${published.record.workflowId} version ${published.record.version}\n`);
    if (published.instance) process.stdout.write(`started instance ${published.instance.id}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof WorkflowRefusedError)) throw error;
    process.stdout.write(`${formatReport(error.report)}\n`);
    return 1;
  }
}
