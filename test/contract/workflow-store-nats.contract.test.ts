import { describe } from 'vitest';
import { NatsWorkflowStore } from '../../src/storage/nats/nats-workflow-store.js';
import { serviceAvailable, services } from '../support/services.js';
import { workflowStoreContract } from './workflow-store.contract.js';

// Each case gets buckets and a stream of its own (a random prefix), deleted afterwards; the second
// repository is another connection to the same data, as another replica would be.
describe.runIf(await serviceAvailable('nats'))('NATS JetStream', () => {
  workflowStoreContract('nats', async () => {
    const prefix = `t${Math.random().toString(36).slice(2, 10)}`;
    const repository = await NatsWorkflowStore.open(services.nats.url, { prefix });
    const second = await NatsWorkflowStore.open(services.nats.url, { prefix });
    return {
      repository,
      second,
      close: async () => {
        await second.close();
        await repository.destroy();
        await repository.close();
      },
    };
  });
});
