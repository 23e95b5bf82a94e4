import { describe, expect, it } from 'vitest';
import { newCompletionId, newMessageId, newRequestId, newToolCallId, newToolUseId } from './ids.js';

describe('ids', () => {
  it('have their prefix and 24 url-safe random characters, and do not repeat across pool refills', () => {
    const seen = new Set<string>();
    // 1,000 ids of 18 bytes each go through the 4 KiB pool several times.
    for (let index = 0; index < 1_000; index++) {
      const id = newCompletionId();
      expect(id).toMatch(/^chatcmpl-[A-Za-z0-9_-]{24}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(1_000);
    expect(newToolCallId()).toMatch(/^call_[A-Za-z0-9_-]{24}$/);
    expect(newMessageId()).toMatch(/^msg_[A-Za-z0-9_-]{24}$/);
    expect(newToolUseId()).toMatch(/^toolu_[A-Za-z0-9_-]{24}$/);
    expect(newRequestId()).toMatch(/^req_[0-9a-f]{32}$/);
  });
});
