import type { Command } from 'commander';
import { openStore } from '../app/backends.js';
import type { PipelineService } from '../app/pipeline-service.js';
import type { WorkflowService } from '../app/workflow-service.js';
import { systemClock } from '../core/clock.js';
import { GatewayError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { loadConfig } from '../config/load-config.js';
import { MemoryEventBus } from '../streaming/memory-event-bus.js';
import type { Store } from '../storage/store.js';

/**
 * `circuit-breaker workflow check|apply|run|status` (docs/workflows.md, "CLI"). `check` needs nothing
 * but the file; the others work on the configured store (the same database the server uses). Each
 * command loads its implementation (the engine, the store) when it runs, not when the CLI starts.
 */
export function registerWorkflowCommands(program: Command): void {
  const workflow = program.command('workflow').description('workflow definitions and instances');
  workflow
    .command('check')
    .argument('<file>', 'a workflow definition (YAML or JSON)')
    .description('analyse a definition file and print the report (exit code 1 on errors)')
    .option('--json', 'print the report as JSON')
    .action((file: string, options: { json?: boolean }) =>
      run(async () => (await import('./workflow-check.js')).workflowCheck(file, options)),
    );
  workflow
    .command('apply')
    .argument('<file>', 'a workflow definition (YAML or JSON)')
    .description('publish the definition (a new version when its id exists) and print the report')
    .action((file: string) =>
      withWorkflows(async (workflows, pipelines) => (await import('./workflow-apply.js')).workflowApply(workflows, pipelines, file)),
    );
  workflow
    .command('run')
    .argument('<workflow>', 'the workflow id')
    .description('start an instance of the latest version')
    .option('--data <json>', "the first token's data, a JSON object")
    .option('--variables <json>', 'instance variables, a JSON object')
    .option('--json', 'print JSON')
    .action((workflowId: string, options: { data?: string; variables?: string; json?: boolean }) =>
      withWorkflows(async (workflows) => (await import('./workflow-run.js')).workflowRun(workflows, workflowId, options)),
    );
  workflow
    .command('status')
    .argument('<instance>', 'the instance id')
    .description('show an instance: status, marking, what can fire, last events')
    .option('--json', 'print JSON')
    .action((instanceId: string, options: { json?: boolean }) =>
      withWorkflows(async (workflows) => (await import('./workflow-status.js')).workflowStatus(workflows, instanceId, options)),
    );
}

async function run(body: () => number | Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    process.stderr.write(`circuit-breaker: ${error.message}\n`);
    process.exitCode = 1;
  }
}

function withWorkflows(body: (workflows: WorkflowService, pipelines: PipelineService) => Promise<number>): Promise<void> {
  return run(async () => {
    let store: Store | undefined;
    try {
      // The engine (and its rule compiler) loads only for the command that needs it.
      const [{ PipelineService }, { WorkflowService }] = await Promise.all([
        import('../app/pipeline-service.js'),
        import('../app/workflow-service.js'),
      ]);
      store = await openStore(loadConfig());
      const workflows = new WorkflowService({
        repository: store.workflows,
        bus: new MemoryEventBus(),
        clock: systemClock,
        logger: silentLogger,
      });
      const agents = store.agents;
      // The pipeline compiler needs only the stored agents' definitions (no model calls from the CLI).
      const pipelines = new PipelineService(
        { list: async () => (await agents.listDefinitions()).map((record) => ({ record })) },
        workflows,
      );
      return await body(workflows, pipelines);
    } finally {
      await store?.close();
    }
  });
}
