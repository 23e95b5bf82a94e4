import { describe, expect, it } from 'vitest';
import { JsonSchemaValidator } from './json-schema-validator.js';

const validator = new JsonSchemaValidator();

describe('JsonSchemaValidator', () => {
  it('checks values and says where they are wrong', () => {
    const compiled = validator.compile({
      type: 'object',
      properties: { id: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
      required: ['id'],
      additionalProperties: false,
    });
    if (!compiled.ok) throw new Error(compiled.message);
    expect(compiled.schema.check({ id: 'a', at: '2026-12-01T10:00:00Z' })).toEqual([]);
    expect(compiled.schema.check({ id: 3, at: 'yesterday', extra: 1 })).toEqual([
      "the value must NOT have additional properties ('extra')",
      '/id must be string',
      '/at must match format "date-time"',
    ]);
    expect(compiled.schema.check('x')).toEqual(['the value must be object']);
  });

  it('refuses a schema with a typo or an unknown format at compile time', () => {
    expect(validator.compile({ type: 'object', propertees: {} })).toMatchObject({ ok: false });
    expect(validator.compile({ type: 'string', format: 'not-a-format' })).toMatchObject({ ok: false });
    expect(validator.compile({ type: 'strin' })).toMatchObject({ ok: false });
  });
});
