import { functionStoreContract } from './function-store.contract.js';
import { testStores } from './support/test-stores.js';

const stores = await testStores('functions');

functionStoreContract('sqlite', stores.sqlite);
if (stores.postgres) functionStoreContract('postgres', stores.postgres);
