import { NatsWorkflowStore } from '../../../src/storage/nats/nats-workflow-store.js';
import { serviceAvailable, services } from '../../support/services.js';
import { backends } from './backends.js';

/** A place for workflow state in an e2e test: the environment that selects it, and how to clear it. */
export interface WorkflowStoreBackend {
  name: string;
  env(): Record<string, string>;
  cleanup(): Promise<void>;
}

/** STORAGE_BACKEND=nats: workflow state in JetStream under a prefix of its own (gateway records on SQLite). */
function nats(): WorkflowStoreBackend {
  const prefix = `e2e${process.pid}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return {
    name: 'nats',
    env: () => ({ STORAGE_BACKEND: 'nats', NATS_URL: services.nats.url, CB_NATS_PREFIX: prefix }),
    cleanup: async () => {
      const store = await NatsWorkflowStore.open(services.nats.url, { prefix });
      await store.destroy();
      await store.close();
    },
  };
}

/**
 * SQLite and PostgreSQL when up (required in CI), plus NATS JetStream when up and `nats` is true.
 * (`CB_E2E_NATS_CRASH=0` leaves NATS out of the crash test, to tell a NATS problem from an engine one.)
 */
export async function workflowStores(options: { nats: boolean } = { nats: true }): Promise<WorkflowStoreBackend[]> {
  return [...(await backends()), ...(options.nats && (await serviceAvailable('nats')) ? [nats()] : [])];
}
