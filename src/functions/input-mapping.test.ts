import { describe, expect, it } from 'vitest';
import { mapInput, mappingIssues } from './input-mapping.js';

describe('mapInput', () => {
  const source = { event: { type: 'TOKEN_CREATED', data: { token: { data: { order: { id: 7 } }, tags: ['a', 'b'] } } } };

  it('builds nested input from dotted paths, lists by index', () => {
    expect(
      mapInput({ 'order.id': 'event.data.token.data.order.id', first: 'event.data.token.tags.1', kind: 'event.type' }, source, null),
    ).toEqual({
      ok: true,
      value: { order: { id: 7 }, first: 'b', kind: 'TOKEN_CREATED' },
    });
  });

  it('passes the fallback through without a mapping', () => {
    expect(mapInput(undefined, source, 'whole')).toEqual({ ok: true, value: 'whole' });
  });

  it('says which source is missing instead of mapping undefined', () => {
    expect(mapInput({ id: 'event.data.token.data.missing.id' }, source, null)).toEqual({
      ok: false,
      message: "input mapping 'id': 'event.data.token.data.missing.id' is not in the data (missing at 'event.data.token.data.missing')",
    });
  });

  it('does not follow or write prototype keys', () => {
    expect(mapInput({ x: 'event.constructor' }, source, null)).toMatchObject({ ok: false });
    expect(mapInput({ '__proto__.polluted': 'event.type' }, source, null)).toMatchObject({ ok: false });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('checks roots and destinations at registration', () => {
    expect(mappingIssues({ a: 'event.x', 'b..c': 'event.y', d: 'output.z' }, ['event'], 'triggers.0.input')).toEqual([
      "triggers.0.input: 'b..c' is not a usable destination path",
      "triggers.0.input: 'output.z' must start with 'event.'",
    ]);
  });
});
