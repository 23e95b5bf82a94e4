import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../../../src/cli/serve.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { ActionError } from '../../../src/engine/action-executor.js';
import type { ActionExecutor } from '../../../src/engine/action-executor.js';

/**
 * The real server with a deterministic test action executor for `function` actions, for e2e tests
 * of the workflow runtime (run as a child process; see `startGateway({ entry })`).
 *
 * An inline function action `{ function: { name, delayMs, fail? } }` waits `delayMs`, then returns
 * `{ [name]: 'done', steps: data.steps + 1 }`. Every execution appends `{firingId, pid}` to
 * `$CB_TEST_ACTIONS_DIR/executions.log` (so a test can count runs), and the first result per firing
 * id is kept in `results/<firingId>.json` and returned on a repeat: the executor is idempotent by
 * firing id, as the ActionExecutor contract asks.
 */
function testExecutor(directory: string): ActionExecutor {
  mkdirSync(join(directory, 'results'), { recursive: true });
  return {
    async execute(request) {
      const spec = 'function' in request.action && typeof request.action.function === 'object' ? request.action.function : {};
      const name = String(spec['name'] ?? 'step');
      appendFileSync(join(directory, 'executions.log'), `${JSON.stringify({ firingId: request.firingId, name, pid: process.pid })}\n`);
      if (spec['fail'] === true) throw new ActionError('test_failure', `${name} fails on purpose`, { retryable: false });
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, Number(spec['delayMs'] ?? 0));
        request.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      });
      const file = join(directory, 'results', `${request.firingId}.json`);
      if (existsSync(file)) return { output: JSON.parse(readFileSync(file, 'utf8')) as unknown };
      const steps = typeof request.data['steps'] === 'number' ? request.data['steps'] : 0;
      const output = { [name]: 'done', steps: steps + 1 };
      // Written aside and renamed, so a SIGKILL never leaves a half-written result behind.
      writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(output));
      renameSync(`${file}.${process.pid}.tmp`, file);
      return { output };
    },
  };
}

const directory = process.env['CB_TEST_ACTIONS_DIR'];
if (!directory) throw new Error('CB_TEST_ACTIONS_DIR is required');
await serve(loadConfig(), {
  beforeStart: (container) => {
    container.workflows.actions.register('function', testExecutor(directory));
    // The inline `{ function: { name, delayMs } }` specs are this executor's, not registered functions.
    container.workflows.catalog.registerActionCheck('function', () => []);
  },
});
