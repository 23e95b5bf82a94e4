import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { Bucket, Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { WorkflowEvent, WorkflowInstance } from '../../engine/workflow-instance.js';
import type {
  CommitResult,
  InstanceCommit,
  InstanceFilter,
  InstanceStart,
  OutboxEntry,
  StoredDefinition,
  TimerEntry,
  WorkflowRepository,
} from '../workflow-repository.js';
import type { InstanceRecord } from './instance-record.js';
import { applyCommit, startRecord } from './instance-record.js';
import { NatsDefinitions } from './nats-definitions.js';
import { NatsEventLog } from './nats-event-log.js';
import type { NatsNames } from './nats-names.js';
import { natsNames, token } from './nats-names.js';
import { isWrongLastSequence, live, NatsOutbox } from './nats-outbox.js';
import { NatsTimers } from './nats-timers.js';
import { PendingEffects } from './pending-effects.js';

export interface NatsWorkflowStoreOptions {
  /** Names every bucket and the stream (default `cb`; see `nats-names.ts`). */
  prefix?: string;
  clock?: Clock;
  logger?: Logger;
}

/** Times a commit re-reads after losing a race on the effects marker before it reports a conflict. */
const markerRetries = 20;
/** How often `recover` also drops old delete markers, so key listings stay as small as what is live. */
const compactEveryMs = 60 * 60_000;
/** Delete markers younger than this are kept (a compare-and-set may be about to read one). */
const keepDeletesMs = 10 * 60_000;

/**
 * The workflow store on NATS JetStream (ADR 0011). Current state lives in KV buckets with
 * compare-and-set; history lives in a stream. An instance's whole mutable state (tokens, marking,
 * variables, revision, timers, and the effects of its last commit) is ONE KV entry, so the CAS on that
 * entry is the commit: two firings from the same revision cannot both land. What the commit changes
 * elsewhere — events appended to the stream, outbox entries created or settled, timer keys — is applied
 * right after, idempotently, and a marker written before the CAS tells any process which instances to
 * repair after a crash. Reads never wait on timing: what should exist is known from the instance entry.
 */
export class NatsWorkflowStore implements WorkflowRepository {
  private readonly definitions: NatsDefinitions;
  private readonly log: NatsEventLog;
  private readonly outbox: NatsOutbox;
  private readonly timers: NatsTimers;
  private readonly markers: PendingEffects;
  private compactedAt: number | undefined;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly jsm: JetStreamManager,
    readonly names: NatsNames,
    private readonly buckets: { definitions: KV; instances: KV; outbox: KV; timers: KV },
    private readonly clock: Clock,
    private readonly logger: Logger | undefined,
  ) {
    this.definitions = new NatsDefinitions(buckets.definitions);
    this.log = new NatsEventLog(jetstream(connection), jsm, names);
    this.outbox = new NatsOutbox(buckets.outbox);
    this.timers = new NatsTimers(
      buckets.timers,
      async (timer) => (await this.record(timer.instanceId))?.record.timers[timer.id]?.dueAt === timer.dueAt,
    );
    this.markers = new PendingEffects(buckets.instances, clock);
  }

  /** Connects, creates the buckets and the stream when missing, and repairs what a crash left half-applied. */
  static async open(url: string, options: NatsWorkflowStoreOptions = {}): Promise<NatsWorkflowStore> {
    const connection = await connect({ servers: url, name: 'circuit-breaker-workflows', maxReconnectAttempts: -1 });
    try {
      return await NatsWorkflowStore.over(connection, options, true);
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /** The same over an open connection; `close()` leaves it open unless `owns`. */
  static async over(connection: NatsConnection, options: NatsWorkflowStoreOptions = {}, owns = false): Promise<NatsWorkflowStore> {
    const names = natsNames(options.prefix ?? 'cb');
    const jsm = await jetstreamManager(connection);
    const kvm = new Kvm(connection);
    // allow_direct off: reads go to the stream leader, so a read after a write always sees it.
    const bucket = (name: string) => kvm.create(name, { history: 1, allow_direct: false });
    const buckets = {
      definitions: await bucket(names.definitions),
      instances: await bucket(names.instances),
      outbox: await bucket(names.outbox),
      timers: await bucket(names.timers),
    };
    const store = new NatsWorkflowStore(connection, owns, jsm, names, buckets, options.clock ?? systemClock, options.logger);
    await store.log.ensureStream();
    await store.recover();
    return store;
  }

  saveDefinition(record: StoredDefinition): Promise<{ ok: true } | { ok: false; reason: 'version_exists' }> {
    return this.definitions.save(record);
  }

  getDefinition(workflowId: string, version?: number): Promise<StoredDefinition | undefined> {
    return this.definitions.get(workflowId, version);
  }

  listDefinitions(): Promise<StoredDefinition[]> {
    return this.definitions.listLatest();
  }

  listVersions(workflowId: string): Promise<StoredDefinition[]> {
    return this.definitions.listVersions(workflowId);
  }

  async createInstance(start: InstanceStart): Promise<{ ok: true; events: WorkflowEvent[] } | { ok: false; reason: 'exists' }> {
    const id = start.instance.id;
    for (const entry of start.outbox ?? [])
      if (await this.outbox.has(entry.firingId)) throw new Error(`outbox firing id ${entry.firingId} is already used`);
    const record = startRecord(start);
    for (let attempt = 0; attempt < markerRetries; attempt++) {
      if (await this.record(id)) return { ok: false, reason: 'exists' };
      const marker = await this.markers.read(id);
      const markerRevision = await this.markers.set(id, 1, marker);
      if (markerRevision === undefined) continue;
      try {
        await this.buckets.instances.create(`i.${token(id)}`, JSON.stringify(record));
      } catch (error) {
        if (isWrongLastSequence(error)) return { ok: false, reason: 'exists' };
        throw error;
      }
      await this.settle(record, markerRevision);
      return { ok: true, events: structuredClone(record.effects.events) };
    }
    throw new Error(`instance ${id}: could not write its effects marker (too much contention)`);
  }

  async getInstance(instanceId: string): Promise<WorkflowInstance | undefined> {
    return (await this.record(instanceId))?.record.instance;
  }

  /** Reads every instance record (the KV holds one small entry per instance) and filters them here. */
  async listInstances(filter: InstanceFilter = {}): Promise<WorkflowInstance[]> {
    const keys: string[] = [];
    for await (const key of await this.buckets.instances.keys('i.*')) keys.push(key);
    const instances = (await Promise.all(keys.map(async (key) => this.parse(await this.buckets.instances.get(key)))))
      .map((found) => found?.record.instance)
      .filter(
        (instance): instance is WorkflowInstance =>
          instance !== undefined &&
          (filter.workflowId === undefined || instance.workflowId === filter.workflowId) &&
          (filter.statuses === undefined || filter.statuses.includes(instance.status)),
      );
    instances.sort((left, right) => right.createdAt - left.createdAt || (left.id < right.id ? 1 : -1));
    return instances.slice(0, filter.limit ?? 100);
  }

  async commit(change: InstanceCommit): Promise<CommitResult> {
    const key = `i.${token(change.instanceId)}`;
    for (let attempt = 0; attempt < markerRetries; attempt++) {
      const found = await this.record(change.instanceId);
      if (!found) return { ok: false, reason: 'not_found' };
      const marker = await this.markers.read(change.instanceId);
      // The previous commit's effects go out before this one's, so the event log never has a gap.
      if (this.markers.verdict(marker, found.record) === 'apply') await this.applyEffects(found.record);
      let taken: string | undefined;
      for (const entry of change.enqueue ?? []) if (!taken && (await this.outbox.has(entry.firingId))) taken = entry.firingId;
      const result = applyCommit(found.record, change, taken);
      if ('reason' in result) return result;
      const markerRevision = await this.markers.set(change.instanceId, result.record.instance.revision, marker);
      if (markerRevision === undefined) continue;
      try {
        await this.buckets.instances.update(key, JSON.stringify(result.record), found.kvRevision);
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
        const current = (await this.record(change.instanceId))?.record.instance.revision;
        return { ok: false, reason: 'conflict', currentRevision: current, message: 'another change to the instance landed first' };
      }
      await this.settle(result.record, markerRevision);
      return { ok: true, revision: result.record.instance.revision, events: structuredClone(result.record.effects.events) };
    }
    const current = (await this.record(change.instanceId))?.record.instance.revision;
    return { ok: false, reason: 'conflict', currentRevision: current, message: 'the instance is changing too often; retry' };
  }

  async readEvents(instanceId: string, options: { afterSequence?: number; limit?: number } = {}): Promise<WorkflowEvent[]> {
    const found = await this.record(instanceId);
    if (!found) return [];
    const { instance, lastSequence } = found.record;
    const after = options.afterSequence ?? 0;
    const through = Math.min(lastSequence, after + (options.limit ?? 1000));
    if (through <= after) return [];
    // Events of the latest commit may still be on their way (or their writer crashed): complete them.
    if ((await this.log.last(instance.workflowId, instanceId)).sequence < through) await this.log.append(found.record.effects.events);
    return this.log.read(instance.workflowId, instanceId, after, through);
  }

  async claimOutbox(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<OutboxEntry[]> {
    await this.recover();
    return this.outbox.claim(options);
  }

  releaseOutbox(firingId: string, options: { owner: string; availableAt: number; error?: string }): Promise<void> {
    return this.outbox.release(firingId, options);
  }

  getOutbox(firingId: string): Promise<OutboxEntry | undefined> {
    return this.outbox.get(firingId);
  }

  async dueTimers(now: number, limit: number): Promise<TimerEntry[]> {
    await this.recover();
    return this.timers.due(now, limit);
  }

  async nextTimerAt(): Promise<number | undefined> {
    await this.recover();
    return this.timers.next();
  }

  /**
   * Applies the effects every marker names (a process died between a commit and its effects), and
   * drops stale markers. Runs at open and before every outbox claim and timer read; cheap when nothing
   * is pending (one key listing).
   */
  async recover(): Promise<void> {
    if (this.compactedAt === undefined || this.clock.now() - this.compactedAt >= compactEveryMs) await this.compact();
    for (const instanceId of await this.markers.instances()) {
      const marker = await this.markers.read(instanceId);
      const found = await this.record(instanceId);
      const verdict = this.markers.verdict(marker, found?.record);
      if (verdict === 'apply' && found) {
        this.logger?.info('workflow store: completing a commit interrupted before its effects were applied', {
          instanceId,
          revision: found.record.instance.revision,
        });
        await this.settle(found.record, marker.kvRevision);
      } else if (verdict === 'drop') await this.markers.clear(instanceId, marker.kvRevision);
    }
  }

  /**
   * KV deletes leave a marker per key (the pending-outbox index, fired timers, effects markers); every
   * key listing walks them. Purging the old ones keeps claims and timer reads proportional to what is
   * pending, not to everything that ever ran.
   */
  private async compact(): Promise<void> {
    this.compactedAt = this.clock.now();
    for (const bucket of [this.buckets.instances, this.buckets.outbox, this.buckets.timers])
      if (bucket instanceof Bucket)
        await bucket
          .purgeDeletes(keepDeletesMs)
          .catch((error: unknown) => this.logger?.warn('workflow store: compaction failed', { error: String(error) }));
  }

  /** A round trip to JetStream, for readiness. */
  async ping(): Promise<void> {
    await this.jsm.getAccountInfo();
  }

  async close(): Promise<void> {
    if (this.ownsConnection && !this.connection.isClosed()) await this.connection.drain();
  }

  /** Deletes every bucket and the stream of this prefix (tests, and `workflow` data resets). */
  async destroy(): Promise<void> {
    for (const bucket of Object.values(this.buckets)) await bucket.destroy().catch(() => false);
    await this.jsm.streams.delete(this.names.stream).catch(() => false);
  }

  /** Applies a record's effects, then removes its marker (if still the one written at `markerRevision`). */
  private async settle(record: InstanceRecord, markerRevision: number): Promise<void> {
    try {
      await this.applyEffects(record);
      await this.markers.clear(record.instance.id, markerRevision);
    } catch (error) {
      // The commit has landed; the marker stays, so the next commit, read or recovery completes this.
      this.logger?.warn('workflow store: effects of a commit are pending', { instanceId: record.instance.id, error: String(error) });
    }
  }

  /** Idempotent: events the stream has are skipped, outbox entries created once, timer keys put or deleted. */
  private async applyEffects(record: InstanceRecord): Promise<void> {
    const { effects } = record;
    await this.log.append(effects.events);
    for (const entry of effects.enqueue) await this.outbox.enqueue(entry);
    for (const settled of effects.settle) await this.outbox.settle(settled);
    for (const timer of effects.cancel) await this.timers.cancel(timer);
    for (const timer of effects.schedule) if (record.timers[timer.id]) await this.timers.schedule(timer);
  }

  private async record(instanceId: string): Promise<{ record: InstanceRecord; kvRevision: number } | undefined> {
    return this.parse(await this.buckets.instances.get(`i.${token(instanceId)}`));
  }

  private parse(found: Awaited<ReturnType<KV['get']>>): { record: InstanceRecord; kvRevision: number } | undefined {
    if (!live(found)) return undefined;
    const record = found.json<InstanceRecord>();
    record.instance.error ??= undefined;
    for (const item of record.instance.tokens) item.createdBy ??= undefined;
    return { record, kvRevision: found.revision };
  }
}
