import type { KV } from '@nats-io/kv';
import type { Clock } from '../../core/clock.js';
import type { InstanceRecord } from './instance-record.js';
import { fromToken, token } from './nats-names.js';
import { isWrongLastSequence, live } from './nats-outbox.js';

/** A marker's value: the revision whose effects may not be applied yet, and when it was written. */
interface Marker {
  revision: number;
  at: number;
}

/** A marker as read: its value (absent when there is none) and the KV revision a compare-and-set needs. */
export interface MarkerState {
  marker: Marker | undefined;
  /** KV revision of the key (0 when it never existed), for `set`. */
  kvRevision: number;
}

/** A marker younger than this whose commit has not landed may belong to a commit still in flight. */
const inFlightMs = 60_000;

/**
 * Markers `m.{instance}` in the instances bucket: "the effects of revision N of this instance may not
 * be applied yet". A commit writes its marker (compare-and-set, so markers only move forward) before
 * the CAS on the instance record, and removes it once the effects are applied. After a crash the
 * markers left behind name exactly the instances to repair, so recovery never scans the instances.
 */
export class PendingEffects {
  constructor(
    private readonly kv: KV,
    private readonly clock: Clock,
  ) {}

  async read(instanceId: string): Promise<MarkerState> {
    const found = await this.kv.get(`m.${token(instanceId)}`);
    if (!found) return { marker: undefined, kvRevision: 0 };
    return { marker: live(found) ? found.json<Marker>() : undefined, kvRevision: found.revision };
  }

  /** Writes the marker for `revision` over the state read; undefined when another process moved it meanwhile. */
  async set(instanceId: string, revision: number, over: MarkerState): Promise<number | undefined> {
    const value = JSON.stringify({ revision, at: this.clock.now() } satisfies Marker);
    const key = `m.${token(instanceId)}`;
    try {
      return over.kvRevision === 0 ? await this.kv.create(key, value) : await this.kv.update(key, value, over.kvRevision);
    } catch (error) {
      if (isWrongLastSequence(error)) return undefined;
      throw error;
    }
  }

  /** Removes the marker if it is still the one written at `kvRevision`. */
  async clear(instanceId: string, kvRevision: number): Promise<void> {
    try {
      await this.kv.delete(`m.${token(instanceId)}`, { previousSeq: kvRevision });
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
    }
  }

  /** Instances that have a marker. */
  async instances(): Promise<string[]> {
    const ids: string[] = [];
    for await (const key of await this.kv.keys('m.*')) ids.push(fromToken(key.slice(2)));
    return ids;
  }

  /**
   * What to do about a marker given the instance's record: `apply` its effects (they are the record's),
   * `drop` it (stale, or a commit that never landed), or `wait` (a commit that may still be in flight).
   */
  verdict(state: MarkerState, record: InstanceRecord | undefined): 'apply' | 'drop' | 'wait' | 'none' {
    const marker = state.marker;
    if (!marker) return 'none';
    const revision = record?.instance.revision ?? 0;
    if (marker.revision === revision) return 'apply';
    if (marker.revision < revision) return 'drop';
    return this.clock.now() - marker.at > inFlightMs ? 'drop' : 'wait';
  }
}
