import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/store.js';

/** The rule repository suite every relational backend passes. `open` gives a fresh, empty store. */
export function ruleStoreContract(name: string, open: () => Promise<Store>): void {
  const withStore = async (body: (store: Store) => Promise<void>): Promise<void> => {
    const store = await open();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  };

  describe(`${name} rule store contract`, () => {
    it('adds immutable versions per name and answers the latest by name', () =>
      withStore(async (store) => {
        expect(await store.rules.get('review-ok')).toBeUndefined();
        expect(await store.rules.versions('review-ok')).toEqual([]);
        const first = await store.rules.addVersion({
          name: 'review-ok',
          rule: 'data.score >= 4',
          description: 'good reviews',
          createdAt: 1000,
        });
        expect(first).toEqual({ name: 'review-ok', version: 1, rule: 'data.score >= 4', description: 'good reviews', createdAt: 1000 });
        const structured = { field: 'data.score', op: 'gte', value: 5 };
        const second = await store.rules.addVersion({ name: 'review-ok', rule: structured, description: null, createdAt: 2000 });
        expect(second.version).toBe(2);
        await store.rules.addVersion({ name: 'another', rule: 'true', description: null, createdAt: 3000 });
        expect(await store.rules.get('review-ok')).toEqual({
          name: 'review-ok',
          version: 2,
          rule: structured,
          description: null,
          createdAt: 2000,
        });
        expect(await store.rules.get('review-ok', 1)).toEqual(first);
        expect(await store.rules.get('review-ok', 3)).toBeUndefined();
        expect((await store.rules.versions('review-ok')).map((rule) => rule.version)).toEqual([1, 2]);
        expect((await store.rules.listAll()).map((rule) => `${rule.name}@${rule.version}`)).toEqual([
          'another@1',
          'review-ok@1',
          'review-ok@2',
        ]);
      }));

    it('gives concurrent saves of one name distinct versions', () =>
      withStore(async (store) => {
        const saved = await Promise.all(
          [1, 2, 3, 4].map((n) => store.rules.addVersion({ name: 'busy', rule: `data.n == ${n}`, description: null, createdAt: n })),
        );
        expect(saved.map((rule) => rule.version).sort()).toEqual([1, 2, 3, 4]);
        const stored = await store.rules.versions('busy');
        expect(stored.map((rule) => rule.version)).toEqual([1, 2, 3, 4]);
        for (const rule of saved) expect(stored[rule.version - 1]?.rule).toBe(rule.rule);
      }));
  });
}
