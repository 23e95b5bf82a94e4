import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../test/support/unit.js';
import { paginate } from './pagination.js';
import type { Connection } from './pagination.js';

const items = Array.from({ length: 250 }, (_, index) => index);

describe('paginate', () => {
  it('pages through a list with first/after until hasNextPage is false', () => {
    const seen: number[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Connection<number> = paginate(items, { first: 100, after });
      seen.push(...page.nodes);
      expect(page.totalCount).toBe(250);
      expect(page.edges.map((edge) => edge.node)).toEqual(page.nodes);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(items);
  });

  it('defaults to 100 and gives an empty last page a null cursor', () => {
    expect(paginate(items, {}).nodes).toHaveLength(100);
    expect(paginate([], {}).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });

  it('refuses a bad first and a cursor it did not hand out, naming the argument', () => {
    expect(refusalOf(() => paginate(items, { first: 0 }))).toMatchObject({ code: 'invalid_request', param: 'first' });
    expect(refusalOf(() => paginate(items, { first: 101 }))).toMatchObject({ param: 'first' });
    expect(refusalOf(() => paginate(items, { after: 'bm9wZQ' }))).toMatchObject({ code: 'invalid_request', param: 'after' });
  });
});
