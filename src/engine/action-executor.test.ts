import { describe, expect, it } from 'vitest';
import { ActionError, ActionExecutorRegistry } from './action-executor.js';
import type { ActionRequest } from './action-executor.js';

const request = (action: ActionRequest['action']): ActionRequest => ({
  firingId: 'f1',
  workflowId: 'wf',
  version: 1,
  instanceId: 'wi',
  transitionId: 'review',
  action,
  tokens: [],
  data: { text: 'hi' },
  variables: {},
  attempt: 1,
  signal: new AbortController().signal,
});

describe('ActionExecutorRegistry', () => {
  it('routes by action kind', async () => {
    const registry = new ActionExecutorRegistry()
      .register('agent', { execute: async (input) => ({ output: { by: 'agent', text: input.data['text'] } }) })
      .register('function', { execute: async () => ({ output: 'fn' }) });
    expect(await registry.execute(request({ agent: 'reviewer' }))).toEqual({ output: { by: 'agent', text: 'hi' } });
    expect(await registry.execute(request({ function: 'lint' }))).toEqual({ output: 'fn' });
  });

  it('refuses a kind with no executor, as a non-retryable action error', async () => {
    const error = await new ActionExecutorRegistry().execute(request({ function: 'lint' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ActionError);
    expect(error).toMatchObject({ code: 'no_executor', retryable: false });
  });
});
