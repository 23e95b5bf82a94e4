import type { Command } from 'commander';
import { keyringOf, openStore } from '../app/backends.js';
import { GatewayKeyAdmin } from '../app/gateway-key-admin.js';
import type { GatewayKeyView } from '../app/gateway-key-admin.js';
import { rotateMasterKey } from '../app/provider-key-admin.js';
import { Keyring, MasterKey } from '../auth/secret-box.js';
import { systemClock } from '../core/clock.js';
import { ConfigError, GatewayError } from '../core/errors.js';
import { loadConfig } from '../config/load-config.js';
import type { Store } from '../storage/store.js';
import type { KeyScopes } from '../storage/key-repository.js';

interface CreateOptions {
  name: string;
  user?: string;
  team?: string;
  project?: string;
  models?: string;
  rpm?: string;
  tpm?: string;
  concurrency?: string;
  budget?: string;
  budgetPeriod?: string;
  expiresInDays?: string;
  json?: boolean;
}

/**
 * `circuit-breaker keys create|list|revoke|rotate-master`: manage gateway keys in the configured store
 * (the same database the server uses; a running server sees changes within 5 s), and re-encrypt stored
 * provider keys under a new master key.
 */
export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('gateway keys (cb_…) and the master key');

  keys
    .command('create')
    .description('issue a gateway key; it is printed once')
    .requiredOption('--name <name>', 'who or what the key is for')
    .option('--user <id>', 'attribute usage to this user')
    .option('--team <id>', 'attribute usage to this team')
    .option('--project <id>', 'attribute usage to this project')
    .option('--models <list>', 'comma-separated models it may call (gpt-4o, openai/*, *)')
    .option('--rpm <n>', 'requests per minute')
    .option('--tpm <n>', 'tokens per minute')
    .option('--concurrency <n>', 'requests in flight')
    .option('--budget <usd>', 'spending limit in USD')
    .option('--budget-period <period>', 'daily or monthly (default monthly)')
    .option('--expires-in-days <n>', 'expiry')
    .option('--json', 'print JSON')
    .action((options: CreateOptions) =>
      withStore(async (store) => {
        const scopes: KeyScopes = {};
        if (options.models)
          scopes.models = options.models
            .split(',')
            .map((model) => model.trim())
            .filter(Boolean);
        if (options.rpm) scopes.rpm = positive(options.rpm, '--rpm');
        if (options.tpm) scopes.tpm = positive(options.tpm, '--tpm');
        if (options.concurrency) scopes.concurrency = positive(options.concurrency, '--concurrency');
        if (options.budget) {
          const period = options.budgetPeriod ?? 'monthly';
          if (period !== 'daily' && period !== 'monthly') throw new ConfigError('--budget-period must be daily or monthly');
          scopes.budget = { limitUsd: positive(options.budget, '--budget', true), period };
        }
        const owner = {
          ...(options.user ? { user: options.user } : {}),
          ...(options.team ? { team: options.team } : {}),
          ...(options.project ? { project: options.project } : {}),
        };
        const expiresAt = options.expiresInDays
          ? systemClock.now() + positive(options.expiresInDays, '--expires-in-days', true) * 86_400_000
          : null;
        const created = await new GatewayKeyAdmin(store.gatewayKeys, systemClock).create({ name: options.name, owner, scopes, expiresAt });
        if (options.json) print(JSON.stringify({ key: created.key, ...created.record }, null, 2));
        else {
          print(created.key);
          process.stderr.write(`created ${created.record.id} '${created.record.name}': the key above is shown once; store it now.\n`);
        }
      }),
    );

  keys
    .command('list')
    .description('list gateway keys (never the keys themselves)')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withStore(async (store) => {
        const list = await new GatewayKeyAdmin(store.gatewayKeys, systemClock).list();
        if (options.json) print(JSON.stringify(list, null, 2));
        else print(table(list));
      }),
    );

  keys
    .command('revoke <id>')
    .description('revoke a gateway key (effective on running servers within 5 s)')
    .action((id: string) =>
      withStore(async (store) => {
        const key = await new GatewayKeyAdmin(store.gatewayKeys, systemClock).revoke(id);
        process.stderr.write(`revoked ${key.id} '${key.name}'\n`);
      }),
    );

  keys
    .command('rotate-master')
    .description(
      're-encrypt stored provider keys under a new master key (CB_NEW_MASTER_KEY); then set CB_MASTER_KEY to it and CB_MASTER_KEY_PREVIOUS to the old one until every replica restarted',
    )
    .action(() =>
      withStore(async (store, config) => {
        const current = keyringOf(config);
        if (!current) throw new ConfigError('CB_MASTER_KEY is not set: there is nothing to rotate from.');
        const text = process.env['CB_NEW_MASTER_KEY'];
        if (!text) throw new ConfigError('Set CB_NEW_MASTER_KEY to the new master key (e.g. `openssl rand -hex 32`).');
        const next = MasterKey.parse(text);
        if ('error' in next) throw new ConfigError(`CB_NEW_MASTER_KEY: ${next.error}`);
        const count = await rotateMasterKey(store.providerKeys, current, new Keyring(next));
        process.stderr.write(`re-encrypted ${count} provider key(s) under master key ${next.fingerprint}\n`);
      }),
    );
}

async function withStore(body: (store: Store, config: ReturnType<typeof loadConfig>) => Promise<void>): Promise<void> {
  let store: Store | undefined;
  try {
    const config = loadConfig();
    store = await openStore(config);
    await body(store, config);
  } catch (error) {
    if (error instanceof GatewayError) {
      process.stderr.write(`circuit-breaker: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  } finally {
    await store?.close();
  }
}

function positive(text: string, flag: string, fractional = false): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (!fractional && !Number.isInteger(value)))
    throw new ConfigError(`${flag} must be a positive ${fractional ? 'number' : 'whole number'}, got '${text}'`);
  return value;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function table(keys: GatewayKeyView[]): string {
  if (keys.length === 0) return 'no gateway keys (create one with `circuit-breaker keys create --name NAME`)';
  const rows = keys.map((key) => [
    key.id,
    key.name,
    `${key.prefix}…`,
    key.status,
    [key.owner.user, key.owner.team, key.owner.project].filter(Boolean).join('/') || '-',
    key.lastUsedAt ? new Date(key.lastUsedAt).toISOString() : 'never',
  ]);
  const header = ['ID', 'NAME', 'KEY', 'STATUS', 'OWNER', 'LAST USED'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
