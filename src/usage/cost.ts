import type { ModelPricing } from '../core/models.js';
import type { Usage } from '../core/usage.js';

/** Output tokens assumed for a worst case when neither the request nor the model gives a limit. */
export const defaultWorstCaseOutputTokens = 4_096;

/**
 * The USD cost of one completion from its token counts and the model's prices (USD per million tokens).
 * Cached prompt tokens are priced at the cached-input price (the input price when none is known), prompt
 * tokens written to a cache at the cache-write price (Anthropic charges 1.25× input), reasoning tokens as
 * the output tokens they are counted in. Undefined when the input or output price is unknown — reported
 * as unknown, never as free.
 */
export function costOf(pricing: ModelPricing, usage: Usage): number | undefined {
  const { input, output } = pricing;
  if (input === undefined || output === undefined) return undefined;
  const cached = Math.min(usage.cachedTokens ?? 0, usage.promptTokens);
  const written = Math.min(usage.cacheWriteTokens ?? 0, usage.promptTokens - cached);
  const plain = usage.promptTokens - cached - written;
  const micro =
    plain * input + cached * (pricing.cachedInput ?? input) + written * (pricing.cacheWrite ?? input) + usage.completionTokens * output;
  return micro / 1_000_000;
}

/**
 * The most a request can cost on a model before it is sent: every prompt character counted as a token
 * (characters bound tokens from above) plus the full output allowance. Budgets reserve this, so parallel
 * requests cannot overspend. Undefined when the price is unknown.
 */
export function worstCaseCost(pricing: ModelPricing, promptCharacters: number, maxOutputTokens: number): number | undefined {
  const { input, output } = pricing;
  if (input === undefined || output === undefined) return undefined;
  // Every prompt token at the dearest prompt price it could be billed at (a cache write can cost more than input).
  const promptPrice = Math.max(input, pricing.cacheWrite ?? input, pricing.cachedInput ?? 0);
  return (promptCharacters * promptPrice + maxOutputTokens * output) / 1_000_000;
}

// One formatter for the process: `toLocaleString` with options builds an Intl.NumberFormat per call (~50 µs).
const usd = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** `$1,234.57`, `$0.0042`: two decimals, more for amounts under a cent so small costs do not read as zero. */
export function formatUsd(amount: number): string {
  if (amount !== 0 && Math.abs(amount) < 0.01) return `$${amount.toPrecision(2)}`;
  return `$${usd.format(amount)}`;
}
