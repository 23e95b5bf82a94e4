import type { KV } from '@nats-io/kv';
import type { StoredDefinition } from '../workflow-repository.js';
import { fromToken, token } from './nats-names.js';
import { isWrongLastSequence, live } from './nats-outbox.js';

/** Workflow definitions in a KV bucket, one key per version (`{workflow}.{version}`), written once. */
export class NatsDefinitions {
  constructor(private readonly kv: KV) {}

  async save(record: StoredDefinition): Promise<{ ok: true } | { ok: false; reason: 'version_exists' }> {
    try {
      await this.kv.create(`${token(record.workflowId)}.${record.version}`, JSON.stringify(record));
      return { ok: true };
    } catch (error) {
      if (isWrongLastSequence(error)) return { ok: false, reason: 'version_exists' };
      throw error;
    }
  }

  async get(workflowId: string, version?: number): Promise<StoredDefinition | undefined> {
    const wanted = version ?? (await this.versionsOf(workflowId)).at(-1);
    if (wanted === undefined) return undefined;
    const found = await this.kv.get(`${token(workflowId)}.${wanted}`);
    return live(found) ? found.json<StoredDefinition>() : undefined;
  }

  async listLatest(): Promise<StoredDefinition[]> {
    const latest = new Map<string, number>();
    for (const { workflowId, version } of await this.keys('>')) latest.set(workflowId, Math.max(version, latest.get(workflowId) ?? 0));
    const ids = [...latest.keys()].sort();
    const records = await Promise.all(ids.map((id) => this.get(id, latest.get(id))));
    return records.filter((record): record is StoredDefinition => record !== undefined);
  }

  async listVersions(workflowId: string): Promise<StoredDefinition[]> {
    const records = await Promise.all((await this.versionsOf(workflowId)).map((version) => this.get(workflowId, version)));
    return records.filter((record): record is StoredDefinition => record !== undefined);
  }

  private async versionsOf(workflowId: string): Promise<number[]> {
    return (await this.keys(`${token(workflowId)}.*`)).map((key) => key.version).sort((left, right) => left - right);
  }

  private async keys(filter: string): Promise<{ workflowId: string; version: number }[]> {
    const keys: { workflowId: string; version: number }[] = [];
    for await (const key of await this.kv.keys(filter)) {
      const [workflow, version] = key.split('.');
      if (workflow !== undefined && version !== undefined) keys.push({ workflowId: fromToken(workflow), version: Number(version) });
    }
    return keys;
  }
}
