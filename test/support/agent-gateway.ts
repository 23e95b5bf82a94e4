import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppContainer } from '../../src/app/container.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Store } from '../../src/storage/store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { emulatorKey } from '../contract/provider-matrix.js';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';

export interface AgentGateway {
  container: AppContainer;
  /** `openai` and `anthropic` emulators behind the providers of those names. */
  openai: Emulator;
  anthropic: Emulator;
  close(): Promise<void>;
}

/**
 * The gateway's container in-process over two emulated providers (OpenAI and Anthropic wire formats)
 * and a store (a fresh SQLite file unless one is given): the real completion service, router, ledger
 * and event bus, for tests of agents that call models.
 */
export async function startAgentGateway(options: { store?: Store; env?: Record<string, string> } = {}): Promise<AgentGateway> {
  const openai = await startEmulator({ kind: 'openai', apiKey: emulatorKey });
  const anthropic = await startEmulator({ kind: 'anthropic', apiKey: emulatorKey });
  const dataDir = mkdtempSync(join(tmpdir(), 'cb-agents-'));
  const config = loadConfig(
    {
      CB_DATA_DIR: dataDir,
      OPENAI_API_KEY: emulatorKey,
      OPENAI_BASE_URL: openai.url,
      ANTHROPIC_API_KEY: emulatorKey,
      ANTHROPIC_BASE_URL: anthropic.url,
      LOG_LEVEL: 'error',
      ...options.env,
    },
    '/nonexistent-dir-for-tests',
  );
  const store = options.store ?? (await SqliteStore.open(join(dataDir, 'store.db')));
  const container = await AppContainer.create(config, { logger: silentLogger, store });
  return {
    container,
    openai,
    anthropic,
    async close() {
      await container.close();
      await Promise.all([openai.close(), anthropic.close()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
