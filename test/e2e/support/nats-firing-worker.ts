/**
 * A child process for the NATS crash and race tests: opens the NATS workflow store and drives
 * instances through a chain of firings, each consuming the instance's one token, producing the next,
 * enqueuing an action, settling the previous one, and moving a timer. Prints one JSON line per landed
 * commit. Usage: `nats-firing-worker.ts <url> <prefix> <instanceIds comma-separated> [race <revision>]`.
 */
import { NatsWorkflowStore } from '../../../src/storage/nats/nats-workflow-store.js';
import type { InstanceCommit } from '../../../src/storage/workflow-repository.js';

const [url, prefix, ids, mode, raceRevision] = process.argv.slice(2);
if (!url || !prefix || !ids) throw new Error('usage: nats-firing-worker.ts <url> <prefix> <ids> [race <revision>]');
const store = await NatsWorkflowStore.open(url, { prefix });
const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

/** The firing from revision `revision` of instance `id` (deterministic, so a retry after a crash is the same firing). */
function nextFiring(id: string, revision: number, liveToken: string, worker: string): InstanceCommit {
  const firingId = `${id}:f${revision}`;
  const produced = `${id}:t${revision + 1}`;
  return {
    instanceId: id,
    expectedRevision: revision,
    status: 'running',
    marking: { [`p${revision}`]: 1 },
    variables: { step: revision, worker },
    consume: [liveToken],
    produce: [
      {
        id: produced,
        instanceId: id,
        place: `p${revision}`,
        data: { worker },
        metadata: {},
        createdBy: firingId,
        parents: [liveToken],
        createdAt: revision,
      },
    ],
    events: [
      { type: 'WORKFLOW_TRANSITION', firingId, at: revision, data: { from: liveToken, to: produced } },
      { type: 'ACTION_STARTED', firingId, at: revision, data: {} },
    ],
    enqueue: [
      {
        firingId,
        instanceId: id,
        workflowId: 'crash',
        transitionId: 'step',
        action: { agent: 'a' },
        input: { tokens: [], variables: {}, data: {} },
        availableAt: 0,
      },
    ],
    settle: revision > 1 ? [{ firingId: `${id}:f${revision - 1}`, status: 'done', output: { revision } }] : [],
    schedule: [{ id: `${id}:timer${revision}`, instanceId: id, workflowId: 'crash', transitionId: 'step', dueAt: 1000 + revision }],
    cancelTimers: revision > 1 ? [`${id}:timer${revision - 1}`] : [],
  };
}

if (mode === 'race') {
  // Wait for "go" on stdin, then fire once from the given revision; print whether it won.
  const id = ids;
  const revision = Number(raceRevision);
  const instance = await store.getInstance(id);
  const live = instance?.tokens[0]?.id ?? '';
  say({ ready: true });
  process.stdin.once('data', () => {
    void store.commit(nextFiring(id, revision, live, `pid${process.pid}`)).then(async (result) => {
      say({ result });
      await store.close();
      process.exit(0);
    });
  });
} else {
  // Fire every instance forever, in parallel, until killed.
  await Promise.all(
    ids.split(',').map(async (id) => {
      for (;;) {
        const instance = await store.getInstance(id);
        if (!instance) throw new Error(`no instance ${id}`);
        const result = await store.commit(nextFiring(id, instance.revision, instance.tokens[0]!.id, `pid${process.pid}`));
        if (result.ok) say({ id, revision: result.revision });
      }
    }),
  );
}
