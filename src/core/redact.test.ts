import { describe, expect, it } from 'vitest';
import { createRedactor } from './redact.js';

describe('createRedactor', () => {
  it('masks every configured secret, longest first, and leaves short values alone', () => {
    const redact = createRedactor(['sk-abcdefgh', 'sk-abcdefgh-longer', 'short']);
    expect(redact('key sk-abcdefgh-longer and sk-abcdefgh, short stays')).toBe('key [redacted] and [redacted], short stays');
  });
});
