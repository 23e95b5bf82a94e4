import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { AppContainer } from '../../app/container.js';
import { terminalStatuses } from '../../engine/workflow-instance.js';
import type { WorkflowEvent, WorkflowInstance } from '../../engine/workflow-instance.js';
import { topics } from '../../streaming/event-bus.js';
import { sseHeaders, sseKeepAlive } from '../../streaming/sse-frames.js';

/** Live progress an action emits (agent deltas, function logs): on the bus, not in the log, so without an `id:`. */
interface ProgressEvent {
  type: string;
  live: true;
  firingId: string;
  data: unknown;
}

/**
 * Streams an instance's events as SSE: first the log after `afterSequence` (so `Last-Event-ID` resumes
 * exactly), then live events from the bus. Each logged event carries `id: <sequence>` and `event:
 * <type>`; a gap between what was sent and a live event is filled from the log, so nothing is skipped or
 * sent twice. The stream ends once the instance has finished and its log has been sent.
 */
export async function streamInstanceEvents(options: {
  request: FastifyRequest;
  response: ServerResponse;
  container: AppContainer;
  instance: WorkflowInstance;
  afterSequence: number;
}): Promise<void> {
  const { response, container, instance } = options;
  const workflows = container.workflows;
  let sent = options.afterSequence;
  let closed = false;
  let queue = Promise.resolve();
  const pending: (WorkflowEvent | ProgressEvent)[] = [];
  let replaying = true;

  const write = (event: WorkflowEvent): void => {
    if (event.sequence <= sent) return;
    response.write(`id: ${event.sequence}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    sent = event.sequence;
  };
  const catchUp = async (): Promise<void> => {
    for (;;) {
      const batch = await workflows.history(instance.id, { afterSequence: sent, limit: 500 });
      for (const event of batch) write(event);
      if (batch.length < 500) return;
    }
  };
  const finishIfDone = async (): Promise<void> => {
    const current = await workflows.getInstance(instance.id);
    if (!terminalStatuses.includes(current.status)) return;
    await catchUp();
    close();
  };
  const handle = async (event: WorkflowEvent | ProgressEvent): Promise<void> => {
    if (closed) return;
    if ('live' in event) {
      response.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      return;
    }
    if (event.sequence > sent + 1) await catchUp();
    write(event);
    if (['COMPLETION', 'CANCELLED', 'ERROR', 'STATUS_CHANGED'].includes(event.type)) await finishIfDone();
  };

  const subscription = container.events.subscribe<WorkflowEvent | ProgressEvent>(
    topics.workflowInstance(instance.workflowId, instance.id),
    (message) => {
      if (replaying) {
        pending.push(message.payload);
        return;
      }
      queue = queue.then(() => handle(message.payload)).catch(() => close());
    },
  );
  const keepAlive = setInterval(() => response.write(sseKeepAlive), container.config.server.keepAliveIntervalMs);
  keepAlive.unref();
  const close = (): void => {
    if (closed) return;
    closed = true;
    subscription.unsubscribe();
    clearInterval(keepAlive);
    response.end();
  };
  options.request.raw.on('close', close);
  response.on('close', close);

  response.writeHead(200, { ...sseHeaders, 'x-request-id': options.request.id });
  response.write(': workflow instance events; reconnect with Last-Event-ID to resume\n\n');
  try {
    await catchUp();
    replaying = false;
    for (const event of pending.splice(0)) queue = queue.then(() => handle(event));
    await queue;
    if (!closed) await finishIfDone();
  } catch {
    close();
  }
}
