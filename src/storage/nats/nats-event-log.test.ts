import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { serviceAvailable, services } from '../../../test/support/services.js';
import type { WorkflowEvent } from '../../engine/workflow-instance.js';
import { NatsEventLog } from './nats-event-log.js';
import { natsNames } from './nats-names.js';

const natsUp = await serviceAvailable('nats');

describe.runIf(natsUp)('NATS event log', () => {
  it('appends each event exactly once and in order, however many processes complete the same commit at once', async () => {
    const connection = await connect({ servers: services.nats.url });
    const jsm = await jetstreamManager(connection);
    const names = natsNames(`l${randomUUID().slice(0, 8)}`);
    const log = new NatsEventLog(jetstream(connection), jsm, names);
    try {
      await log.ensureStream();
      await log.ensureStream();
      const events: WorkflowEvent[] = Array.from({ length: 12 }, (_, index) => ({
        type: 'TOKEN_CREATED',
        at: index,
        data: { index },
        instanceId: 'wi.1',
        workflowId: 'wf',
        sequence: index + 1,
      }));
      // Five "processes" repairing overlapping slices of the same commits, all at the same time.
      await Promise.all([
        log.append(events),
        log.append(events.slice(0, 6)),
        log.append(events),
        log.append(events.slice(0, 3)),
        log.append(events),
      ]);
      expect(await log.last('wf', 'wi.1')).toMatchObject({ sequence: 12 });
      expect((await jsm.streams.info(names.stream)).state.messages).toBe(12);
      expect((await log.read('wf', 'wi.1', 0, 12)).map((event) => event.sequence)).toEqual(events.map((event) => event.sequence));
      expect((await log.read('wf', 'wi.1', 10, 12)).map((event) => event.data)).toEqual([{ index: 10 }, { index: 11 }]);
      // A commit's events never land after a gap: appending 14 when the log ends at 12 is refused.
      await expect(log.append([{ ...events[0]!, sequence: 14 }])).rejects.toThrow(/event 13 is missing/);
    } finally {
      await jsm.streams.delete(names.stream).catch(() => false);
      await connection.close();
    }
  });
});
