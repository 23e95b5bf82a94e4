import type { KV } from '@nats-io/kv';
import type { TimerEntry } from '../workflow-repository.js';
import { live } from './nats-outbox.js';
import { parseTimerKey, timerKey } from './nats-names.js';

/**
 * The durable timers as a KV index: key `{dueAt}.{timer}` (15-digit milliseconds, so keys sort by due
 * time), value the timer. The instance record is the truth about which timers exist; `isCurrent`
 * checks a key against it, so an index key left behind by a crash (or re-written by a late repair) is
 * dropped instead of firing.
 */
export class NatsTimers {
  constructor(
    private readonly kv: KV,
    private readonly isCurrent: (timer: TimerEntry) => Promise<boolean>,
  ) {}

  async schedule(timer: TimerEntry): Promise<void> {
    await this.kv.put(timerKey(timer.dueAt, timer.id), JSON.stringify(timer));
  }

  async cancel(timer: TimerEntry): Promise<void> {
    await this.kv.delete(timerKey(timer.dueAt, timer.id));
  }

  /** Current timers with `dueAt <= now` (all when `now` is omitted), soonest first, at most `limit`. */
  async due(now: number, limit: number): Promise<TimerEntry[]> {
    const keys = (await this.keys())
      .map((key) => ({ key, parsed: parseTimerKey(key) }))
      .filter((item) => item.parsed !== undefined && item.parsed.dueAt <= now)
      .sort((left, right) => (left.key < right.key ? -1 : 1));
    const due: TimerEntry[] = [];
    for (const { key } of keys) {
      if (due.length >= limit) break;
      const found = await this.kv.get(key);
      if (!live(found)) continue;
      const timer = found.json<TimerEntry>();
      if (await this.isCurrent(timer)) due.push(timer);
      else await this.kv.delete(key);
    }
    return due;
  }

  /** The soonest current timer's due time. */
  async next(): Promise<number | undefined> {
    return (await this.due(Number.MAX_SAFE_INTEGER, 1))[0]?.dueAt;
  }

  private async keys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys()) keys.push(key);
    return keys;
  }
}
