import { describe, expect, it } from 'vitest';
import { sseData, sseFrames } from './sse-frames.js';

describe('sseFrames', () => {
  it('is the concatenation of each JSON as a data frame', () => {
    expect(sseFrames([])).toBe('');
    expect(sseFrames(['{"a":1}'])).toBe('data: {"a":1}\n\n');
    const chunks = ['{"a":1}', '{"b":2}', '{"c":"x\\ny"}'];
    expect(sseFrames(chunks)).toBe(chunks.map(sseData).join(''));
  });
});
