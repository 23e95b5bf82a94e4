import { headers as natsHeaders } from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { WorkflowEvent } from '../../engine/workflow-instance.js';
import type { NatsNames } from './nats-names.js';
import { eventSubject } from './nats-names.js';

/** Header with the event's sequence in its instance's log. */
const sequenceHeader = 'Cb-Sequence';
/** JetStream's "wrong last sequence" API error: an expectation on the stream did not hold. */
const wrongLastSequence = 10071;
/** Stream `duplicate_window`: a re-published event with the same `Nats-Msg-Id` inside it is dropped. */
const duplicateWindowNs = 120 * 1e9;

/**
 * The instance event logs as one JetStream stream, one subject per instance
 * (`cb.workflows.{workflow}.events.{instance}`). Appends are exactly-once per sequence number: each
 * publish carries `Nats-Msg-Id: {instance}:{sequence}` (the server drops a copy inside its duplicate
 * window) AND expects the subject's last stream sequence to be that of the previous event (so a copy
 * outside the window, or a racing publisher, is refused rather than appended twice). Reads know how
 * many events exist (from the instance record), so they never wait for "maybe more".
 */
export class NatsEventLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: NatsNames,
  ) {}

  /** Creates the stream when missing. An existing stream is used as it is: never deleted or recreated. */
  async ensureStream(): Promise<void> {
    const config: Partial<StreamConfig> & { name: string } = {
      name: this.names.stream,
      subjects: [`${this.names.subjectPrefix}.*.events.*`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      duplicate_window: duplicateWindowNs,
      num_replicas: 1,
    };
    try {
      await this.jsm.streams.info(this.names.stream);
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.status !== 404) throw error;
      await this.jsm.streams.add(config);
    }
  }

  /** The highest event sequence of the instance in the stream, and that message's stream sequence. */
  async last(workflowId: string, instanceId: string): Promise<{ sequence: number; streamSequence: number }> {
    const stored = await this.jsm.streams.getMessage(this.names.stream, { last_by_subj: eventSubject(this.names, workflowId, instanceId) });
    if (!stored) return { sequence: 0, streamSequence: 0 };
    return { sequence: Number(stored.header.get(sequenceHeader)), streamSequence: stored.seq };
  }

  /**
   * Appends the events the stream does not have yet (those above its last sequence), in order. Safe to
   * call again with the same events, from several processes at once.
   */
  async append(events: readonly WorkflowEvent[]): Promise<void> {
    const first = events[0];
    if (!first) return;
    const subject = eventSubject(this.names, first.workflowId, first.instanceId);
    for (let attempt = 0; ; attempt++) {
      let { sequence, streamSequence } = await this.last(first.workflowId, first.instanceId);
      try {
        for (const event of events) {
          if (event.sequence <= sequence) continue;
          if (event.sequence !== sequence + 1)
            throw new Error(`event log of ${event.instanceId}: event ${sequence + 1} is missing before ${event.sequence}`);
          const headers = natsHeaders();
          headers.set(sequenceHeader, String(event.sequence));
          if (event.firingId !== undefined) headers.set('Cb-Firing-Id', event.firingId);
          const ack = await this.js.publish(subject, JSON.stringify(event), {
            headers,
            msgID: `${event.instanceId}:${event.sequence}`,
            expect: { lastSubjectSequence: streamSequence },
          });
          sequence = event.sequence;
          streamSequence = ack.seq;
        }
        return;
      } catch (error) {
        // Another process appended meanwhile: look again at what the stream has.
        if (!(error instanceof JetStreamApiError && error.code === wrongLastSequence) || attempt >= 5) throw error;
      }
    }
  }

  /** Events `after + 1 … through` of one instance, in order; `through` must already be in the stream. */
  async read(workflowId: string, instanceId: string, after: number, through: number): Promise<WorkflowEvent[]> {
    if (through <= after) return [];
    const consumer = await this.js.consumers.get(this.names.stream, { filter_subjects: eventSubject(this.names, workflowId, instanceId) });
    const events: WorkflowEvent[] = [];
    try {
      let seen = 0;
      while (seen < through) {
        const batch = await consumer.fetch({ max_messages: Math.min(through - seen, 500), expires: 10_000 });
        let got = 0;
        for await (const message of batch) {
          got++;
          seen = Number(message.headers?.get(sequenceHeader));
          if (seen > after) events.push(message.json<WorkflowEvent>());
          if (seen >= through) break;
        }
        if (got === 0) throw new Error(`event log of ${instanceId}: events after ${seen} are missing from stream ${this.names.stream}`);
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return events.slice(0, through - after);
  }
}
