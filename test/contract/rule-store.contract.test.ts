import { ruleStoreContract } from './rule-store.contract.js';
import { testStores } from './support/test-stores.js';

const stores = await testStores('rules');

ruleStoreContract('sqlite', stores.sqlite);
if (stores.postgres) ruleStoreContract('postgres', stores.postgres);
