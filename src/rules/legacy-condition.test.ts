import { describe, expect, it } from 'vitest';
import { compileRule } from './compile-rule.js';
import { translateLegacyCondition } from './legacy-condition.js';

const cost = { variables: ['token_count', 'complexity', 'environment', 'model', 'cost_today', 'request_size', 'user'] };

describe('translateLegacyCondition', () => {
  it.each<[string, string]>([
    ["token_count < 500 AND complexity = 'low'", "token_count < 500 && complexity == 'low'"],
    ["environment = 'development'", "environment == 'development'"],
    ["model = 'gpt-4' AND cost_today > $100", "model == 'gpt-4' && cost_today > 100"],
    ['request_size < 100_tokens', 'request_size < 100'],
    ["model <> 'gpt-4' or NOT (cost_today >= $0.50)", "model != 'gpt-4' || !(cost_today >= 0.50)"],
    ['user IS NOT NULL AND user IS NULL = FALSE', 'user != null && user == null == false'],
    ["complexity = 'it''s'", "complexity == 'it\\'s'"],
  ])('%s → %s', (legacy, cel) => {
    expect(translateLegacyCondition(legacy)?.text).toBe(cel);
  });

  it('leaves string literals alone', () => {
    expect(translateLegacyCondition("model = 'AND = $100 <> 5_tokens'")?.text).toBe("model == 'AND = $100 <> 5_tokens'");
  });

  it('returns nothing when there is nothing legacy', () => {
    expect(translateLegacyCondition("token_count <= 500 && model != 'x'")).toBeUndefined();
  });

  it('lists what it changed', () => {
    expect(translateLegacyCondition("model = 'gpt-4' AND cost_today > $100")?.changes).toEqual(['= → ==', 'AND → &&', '$100 → 100']);
  });
});

describe('legacy conditions in compileRule', () => {
  it('translates the seed forms when asked to, with a warning giving the CEL spelling', () => {
    const result = compileRule("model = 'gpt-4' AND cost_today > $100", { ...cost, legacySyntax: 'translate' });
    if (!result.ok) throw new Error(result.issues[0]?.message);
    expect(result.rule.expression).toBe("model == 'gpt-4' && cost_today > 100");
    expect(result.rule.source).toBe("model = 'gpt-4' AND cost_today > $100");
    expect(result.rule.warnings).toMatchObject([{ code: 'legacy_syntax', severity: 'warning' }]);
    expect(result.rule.warnings[0]?.message).toContain("`model == 'gpt-4' && cost_today > 100`");
    expect(result.rule.evaluate({ model: 'gpt-4', cost_today: 120.5 }).passed).toBe(true);
    expect(result.rule.evaluate({ model: 'gpt-4', cost_today: 80 }).passed).toBe(false);
  });

  it('evaluates every seed condition after translation', () => {
    const seed: [string, Record<string, unknown>, boolean][] = [
      ["token_count < 500 AND complexity = 'low'", { token_count: 120, complexity: 'low' }, true],
      ["environment = 'development'", { environment: 'production' }, false],
      ['request_size < 100_tokens', { request_size: 42 }, true],
    ];
    for (const [text, data, expected] of seed) {
      const result = compileRule(text, { ...cost, legacySyntax: 'translate' });
      if (!result.ok) throw new Error(result.issues[0]?.message);
      expect(result.rule.evaluate(data).passed).toBe(expected);
    }
  });

  it('by default refuses the legacy form, suggesting the CEL spelling', () => {
    const result = compileRule("environment = 'development'", cost);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]?.code).toBe('syntax_error');
    expect(result.issues[0]?.message).toContain("did you mean `environment == 'development'`?");
  });

  it('never changes text that is valid CEL', () => {
    const result = compileRule('token_count < 500', { ...cost, legacySyntax: 'translate' });
    expect(result.ok && result.rule.warnings.length === 0 && result.rule.expression === 'token_count < 500').toBe(true);
  });

  it('still checks the names of a translated condition', () => {
    const result = compileRule("tier = 'gold' AND model = 'gpt-4'", { ...cost, legacySyntax: 'translate' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]).toMatchObject({ code: 'unknown_variable' });
  });

  it('reports the original syntax error when the translation does not help', () => {
    const result = compileRule('token_count < AND', { ...cost, legacySyntax: 'translate' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.message).not.toContain('did you mean');
  });
});
