import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { loadConfig } from './load-config.js';
import { printableConfig } from './print-config.js';

const cwd = mkdtempSync(join(tmpdir(), 'cb-nats-config-'));

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('NATS settings', () => {
  it('keeps events in process by default and moves them to NATS once NATS_URL is set', () => {
    expect(loadConfig({}, cwd).events.bus).toBe('memory');
    const config = loadConfig({ NATS_URL: 'nats://127.0.0.1:4222' }, cwd);
    expect(config.events.bus).toBe('nats');
    expect(config.storage).toEqual({ backend: 'sqlite', natsUrl: 'nats://127.0.0.1:4222' });
    expect(loadConfig({ NATS_URL: 'nats://127.0.0.1:4222', CB_EVENT_BUS: 'memory' }, cwd).events.bus).toBe('memory');
  });

  it('selects NATS for workflow state with STORAGE_BACKEND=nats', () => {
    const config = loadConfig({ STORAGE_BACKEND: 'nats', NATS_URL: 'nats://127.0.0.1:4222', CB_NATS_PREFIX: 'prod-eu' }, cwd);
    expect(config.storage).toMatchObject({ backend: 'nats', natsPrefix: 'prod-eu' });
  });

  it('refuses NATS without a URL, a bad URL and an unknown bus, without echoing the URL', () => {
    expect(problems({ CB_EVENT_BUS: 'nats' })).toEqual(['CB_EVENT_BUS=nats needs NATS_URL=nats://host:4222']);
    expect(problems({ STORAGE_BACKEND: 'nats' })).toEqual(['STORAGE_BACKEND=nats needs NATS_URL=nats://host:4222']);
    expect(problems({ CB_EVENT_BUS: 'kafka' })).toEqual(["CB_EVENT_BUS: expected memory or nats, got 'kafka'"]);
    expect(problems({ CB_NATS_PREFIX: 'a.b' })).toEqual([
      "CB_NATS_PREFIX: expected letters, digits, _ and - (up to 32, starting with a letter), got 'a.b'",
    ]);
    const [bad] = problems({ NATS_URL: 'http://user:hunter2@127.0.0.1:4222' });
    expect(bad).toContain('NATS_URL: expected nats://host:4222');
    expect(bad).not.toContain('hunter2');
  });

  it('prints the NATS and database URLs without their passwords or tokens', () => {
    const withPassword = printableConfig(
      loadConfig({ NATS_URL: 'nats://cb:hunter2@127.0.0.1:4222', DATABASE_URL: 'postgres://postgres:pgsecret@127.0.0.1:5432/test' }, cwd),
    );
    expect(withPassword).not.toContain('hunter2');
    expect(withPassword).not.toContain('pgsecret');
    expect(withPassword).toContain('nats://cb:***@127.0.0.1:4222');
    expect(withPassword).toContain('"bus": "nats"');
    const withToken = printableConfig(loadConfig({ NATS_URL: 'nats://s3cr3t-token@127.0.0.1:4222' }, cwd));
    expect(withToken).not.toContain('s3cr3t-token');
  });
});
