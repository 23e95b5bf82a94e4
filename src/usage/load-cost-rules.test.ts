import { describe, expect, it } from 'vitest';
import { loadCostRules } from './load-cost-rules.js';

describe('loadCostRules', () => {
  it('gives no engine when there are no rules', async () => {
    expect(await loadCostRules([])).toEqual({ engine: undefined, warnings: [] });
  });

  it('compiles configured rules, and reports bad ones, as compileCostRules does', async () => {
    const loaded = await loadCostRules([
      { name: 'Small', condition: 'token_count < 10', action: { type: 'prefer_provider', provider: 'ollama' } },
    ]);
    expect('engine' in loaded && loaded.engine?.size).toBe(1);
    const bad = await loadCostRules([
      { name: 'Typo', condition: 'tokens < 500', action: { type: 'route_to_model', model: 'gpt-4o-mini' } },
    ]);
    expect('issues' in bad && bad.issues[0]).toMatch(/^cost_rules\.0 \('Typo'\): /);
  });
});
