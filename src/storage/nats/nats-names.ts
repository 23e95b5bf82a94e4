/**
 * Names of the NATS JetStream objects the workflow store uses, and how ids become key and subject
 * tokens. One `prefix` (default `cb`) names everything, so two stores (or test runs) on one server never
 * share data:
 *
 * | object                       | name (prefix `cb`)                               |
 * | ---------------------------- | ------------------------------------------------ |
 * | event stream                 | `CB_WORKFLOW_EVENTS`, subjects `cb.workflows.*.events.*` |
 * | definitions bucket           | `cb_wf_definitions`, key `{workflow}.{version}`  |
 * | instances bucket             | `cb_wf_instances`, keys `i.{instance}` and `m.{instance}` (pending effects) |
 * | outbox bucket                | `cb_wf_outbox`, keys `e.{firing}` (entry) and `p.{firing}` (pending index) |
 * | timers bucket                | `cb_wf_timers`, key `{dueAt, 15 digits}.{timer}` |
 */
export interface NatsNames {
  stream: string;
  subjectPrefix: string;
  definitions: string;
  instances: string;
  outbox: string;
  timers: string;
}

/** Letters, digits, `_` and `-`, starting with a letter: usable in bucket, stream and subject names. */
export const prefixPattern = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

export function natsNames(prefix: string): NatsNames {
  if (!prefixPattern.test(prefix))
    throw new Error(`NATS workflow store prefix '${prefix}': use letters, digits, _ and - (up to 32, starting with a letter)`);
  return {
    stream: `${prefix.toUpperCase().replaceAll('-', '_')}_WORKFLOW_EVENTS`,
    subjectPrefix: `${prefix}.workflows`,
    definitions: `${prefix}_wf_definitions`,
    instances: `${prefix}_wf_instances`,
    outbox: `${prefix}_wf_outbox`,
    timers: `${prefix}_wf_timers`,
  };
}

/** The subject of one instance's events: `cb.workflows.{workflow}.events.{instance}`. */
export function eventSubject(names: NatsNames, workflowId: string, instanceId: string): string {
  return `${names.subjectPrefix}.${token(workflowId)}.events.${token(instanceId)}`;
}

/**
 * One key or subject token from any id: letters, digits, `_` and `-` stay; every other character becomes
 * `=` and its UTF-8 bytes in hex (`a:b` → `a=3Ab`), so the mapping is reversible and `.`, `*`, `>` or spaces
 * in an id can never change a key's shape (the original's unsanitized ids broke its subjects).
 */
export function token(id: string): string {
  if (id === '') return '=';
  let out = '';
  for (const character of id) {
    if (/[A-Za-z0-9_-]/.test(character)) out += character;
    else for (const byte of Buffer.from(character, 'utf8')) out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The id a `token` came from. */
export function fromToken(encoded: string): string {
  if (encoded === '=') return '';
  const bytes: number[] = [];
  for (let index = 0; index < encoded.length; index++) {
    const character = encoded[index]!;
    if (character === '=') {
      bytes.push(Number.parseInt(encoded.slice(index + 1, index + 3), 16));
      index += 2;
    } else bytes.push(character.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Timer keys sort by due time: 15 digits hold epoch milliseconds until the year 33658. */
export function timerKey(dueAt: number, timerId: string): string {
  return `${String(Math.max(0, Math.trunc(dueAt))).padStart(15, '0')}.${token(timerId)}`;
}

export function parseTimerKey(key: string): { dueAt: number; timerId: string } | undefined {
  const [due, id, extra] = key.split('.');
  if (due === undefined || id === undefined || extra !== undefined || !/^\d{15}$/.test(due)) return undefined;
  return { dueAt: Number(due), timerId: fromToken(id) };
}
