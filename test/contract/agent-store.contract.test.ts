import { agentStoreContract } from './agent-store.contract.js';
import { testStores } from './support/test-stores.js';

const stores = await testStores('agents');

agentStoreContract('sqlite', stores.sqlite);
if (stores.postgres) agentStoreContract('postgres', stores.postgres);
