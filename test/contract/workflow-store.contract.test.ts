import { MemoryWorkflowRepository } from '../../src/storage/memory/memory-workflow-repository.js';
import { workflowStoreContract } from './workflow-store.contract.js';

workflowStoreContract('memory', async () => ({ repository: new MemoryWorkflowRepository(), close: async () => {} }));
