import { describe, expect, it } from 'vitest';
import type { ModelPricing } from '../core/models.js';
import { costOf, defaultWorstCaseOutputTokens, formatUsd, worstCaseCost } from './cost.js';

/** gpt-4o: $2.50 in, $1.25 cached in, $10 out per million tokens. */
const gpt4o: ModelPricing = { input: 2.5, output: 10, cachedInput: 1.25 };
/** claude-3-5-sonnet: $3 in, $0.30 cache read, $3.75 cache write, $15 out. */
const sonnet: ModelPricing = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 };

describe('costOf', () => {
  it('prices prompt and completion tokens per million', () => {
    expect(costOf({ input: 2.5, output: 10 }, { promptTokens: 1_000, completionTokens: 500 })).toBeCloseTo(0.0075, 12);
    expect(costOf({ input: 2.5, output: 10 }, { promptTokens: 1_000_000, completionTokens: 1_000_000 })).toBeCloseTo(12.5, 9);
  });

  it('prices cached prompt tokens at the cached-input price', () => {
    // 600 plain × 2.5 + 400 cached × 1.25 + 500 out × 10 = 7,000 micro-USD
    expect(costOf(gpt4o, { promptTokens: 1_000, completionTokens: 500, cachedTokens: 400 })).toBeCloseTo(0.007, 12);
  });

  it('prices cached tokens at the input price when no cached price is known', () => {
    const plain = costOf({ input: 2.5, output: 10 }, { promptTokens: 1_000, completionTokens: 500 });
    expect(costOf({ input: 2.5, output: 10 }, { promptTokens: 1_000, completionTokens: 500, cachedTokens: 400 })).toBe(plain);
  });

  it('prices cache writes at the cache-write price, reads at the cached price, the rest at input', () => {
    // 4,000 plain × 3 + 2,000 read × 0.3 + 4,000 written × 3.75 + 1,000 out × 15 = 42,600 micro-USD
    const usage = { promptTokens: 10_000, completionTokens: 1_000, cachedTokens: 2_000, cacheWriteTokens: 4_000 };
    expect(costOf(sonnet, usage)).toBeCloseTo(0.0426, 12);
  });

  it('prices cache writes at the input price when no cache-write price is known', () => {
    const { cacheWrite: _cacheWrite, ...withoutWrite } = sonnet;
    const usage = { promptTokens: 10_000, completionTokens: 0, cacheWriteTokens: 4_000 };
    expect(costOf(withoutWrite, usage)).toBeCloseTo(0.03, 12);
  });

  it('never counts more cached or written tokens than there are prompt tokens', () => {
    expect(costOf(gpt4o, { promptTokens: 1_000, completionTokens: 0, cachedTokens: 5_000 })).toBeCloseTo(0.00125, 12);
    // 800 cached × 0.3 + the 200 left written × 3.75 (not 1,000)
    expect(costOf(sonnet, { promptTokens: 1_000, completionTokens: 0, cachedTokens: 800, cacheWriteTokens: 1_000 })).toBeCloseTo(
      0.00099,
      12,
    );
  });

  it('prices reasoning tokens as the output tokens they are counted in (not a second time)', () => {
    const without = costOf({ input: 1.1, output: 4.4 }, { promptTokens: 100, completionTokens: 2_000 });
    const withReasoning = costOf({ input: 1.1, output: 4.4 }, { promptTokens: 100, completionTokens: 2_000, reasoningTokens: 1_500 });
    expect(withReasoning).toBe(without);
    expect(withReasoning).toBeCloseTo(0.00891, 12);
  });

  it('is undefined when the input or the output price is unknown, never free', () => {
    const usage = { promptTokens: 10, completionTokens: 10 };
    expect(costOf({}, usage)).toBeUndefined();
    expect(costOf({ input: 1 }, usage)).toBeUndefined();
    expect(costOf({ output: 1 }, usage)).toBeUndefined();
    expect(costOf({ cachedInput: 1, cacheWrite: 1 }, usage)).toBeUndefined();
    expect(costOf({ input: 1 }, { promptTokens: 0, completionTokens: 0 })).toBeUndefined();
  });

  it('is 0 for a free model, whatever the tokens', () => {
    expect(costOf({ input: 0, output: 0 }, { promptTokens: 1_000_000, completionTokens: 5_000, cachedTokens: 10 })).toBe(0);
  });

  it('is 0 for no tokens at a known price', () => {
    expect(costOf(gpt4o, { promptTokens: 0, completionTokens: 0 })).toBe(0);
  });
});

describe('worstCaseCost', () => {
  it('counts every prompt character as an input token plus the whole output allowance', () => {
    // 4,000 chars × 2.5 + 1,000 out × 10 = 20,000 micro-USD
    expect(worstCaseCost({ input: 2.5, output: 10 }, 4_000, 1_000)).toBeCloseTo(0.02, 12);
  });

  it('is at least the cost of any completion whose tokens stay within the characters and the allowance', () => {
    const worst = worstCaseCost(sonnet, 8_000, 512) ?? 0;
    for (const usage of [
      { promptTokens: 2_000, completionTokens: 512 },
      { promptTokens: 8_000, completionTokens: 512 },
      { promptTokens: 8_000, completionTokens: 512, cachedTokens: 8_000 },
      { promptTokens: 8_000, completionTokens: 0 },
    ])
      expect(costOf(sonnet, usage) ?? Infinity).toBeLessThanOrEqual(worst);
  });

  it('is an upper bound also when prompt tokens are written to the cache at a price above input', () => {
    // Anthropic charges 1.25× input for cache writes: 8,000 written × 3.75 + 512 × 15 = $0.03768, but the
    // worst case prices every prompt token at input: 8,000 × 3 + 512 × 15 = $0.03168.
    const worst = worstCaseCost(sonnet, 8_000, 512) ?? 0;
    expect(costOf(sonnet, { promptTokens: 8_000, completionTokens: 512, cacheWriteTokens: 8_000 }) ?? Infinity).toBeLessThanOrEqual(worst);
  });

  it('is undefined for an unknown price and 0 for a free model', () => {
    expect(worstCaseCost({ input: 1 }, 100, defaultWorstCaseOutputTokens)).toBeUndefined();
    expect(worstCaseCost({ input: 0, output: 0 }, 100, defaultWorstCaseOutputTokens)).toBe(0);
  });

  it('assumes 4,096 output tokens by default', () => {
    expect(defaultWorstCaseOutputTokens).toBe(4_096);
    expect(worstCaseCost({ input: 0, output: 1 }, 0, defaultWorstCaseOutputTokens)).toBeCloseTo(0.004096, 12);
  });
});

describe('formatUsd', () => {
  it.each([
    [0, '$0.00'],
    [5, '$5.00'],
    [0.01, '$0.01'],
    [12.346, '$12.35'],
    [1_234.567, '$1,234.57'],
    [1_000_000, '$1,000,000.00'],
  ])('%s → %s (two decimals, thousands separated)', (amount, text) => {
    expect(formatUsd(amount)).toBe(text);
  });

  it.each([
    [0.0042, '$0.0042'],
    [0.00123, '$0.0012'],
    [0.000051, '$0.000051'],
  ])('%s → %s (two significant digits under a cent, so it does not read as zero)', (amount, text) => {
    expect(formatUsd(amount)).toBe(text);
  });
});
