import { invalidRequest } from '../../core/errors.js';
import type { JsonSchema } from '../../core/chat.js';

/** Keywords Gemini's schema subset rejects; they are removed and reported. */
const dropped = new Set([
  'additionalProperties',
  '$schema',
  '$id',
  'propertyNames',
  'uniqueItems',
  'default',
  'title',
  'examples',
  'patternProperties',
  'unevaluatedProperties',
  'dependentRequired',
  'dependentSchemas',
  'if',
  'then',
  'else',
  'not',
  'contains',
  'minContains',
  'maxContains',
  '$comment',
  'readOnly',
  'writeOnly',
  'deprecated',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'allOf',
]);

/**
 * Down-levels a JSON Schema to the subset Gemini accepts (OpenAPI 3.0-like): `$ref`s are inlined from
 * `$defs`/`definitions` (a recursive reference is refused with a 400), `const` becomes a one-value enum,
 * `type: [T, "null"]` becomes `type: T, nullable: true`, `oneOf` becomes `anyOf`, and the keywords Gemini
 * rejects are dropped. Each dropped keyword is reported once in `dropped` (path-qualified).
 */
export function toGeminiSchema(schema: JsonSchema, where: string, param: string): { schema: JsonSchema; dropped: string[] } {
  const definitions = { ...(record(schema['$defs']) ?? {}), ...(record(schema['definitions']) ?? {}) };
  const droppedKeywords = new Set<string>();
  const convert = (node: unknown, stack: readonly string[]): unknown => {
    if (Array.isArray(node)) return node.map((item) => convert(item, stack));
    const object = record(node);
    if (!object) return node;
    if (typeof object['$ref'] === 'string') {
      const reference = object['$ref'];
      const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(reference)?.[1];
      const target = name === undefined ? undefined : definitions[name];
      if (name === undefined || target === undefined)
        throw invalidRequest(
          `${where}: the schema reference '${reference}' cannot be resolved (only #/$defs/… and #/definitions/… are supported).`,
          param,
        );
      if (stack.includes(name))
        throw invalidRequest(`${where}: the schema is recursive ('${reference}'), which Gemini cannot express; flatten it.`, param);
      return convert(target, [...stack, name]);
    }
    const result: JsonSchema = {};
    for (const [key, value] of Object.entries(object)) {
      if (key === '$defs' || key === 'definitions') continue;
      if (dropped.has(key)) {
        droppedKeywords.add(key);
        continue;
      }
      if (key === 'properties') {
        const properties = record(value) ?? {};
        result['properties'] = Object.fromEntries(Object.entries(properties).map(([name, child]) => [name, convert(child, stack)]));
      } else if (key === 'const') {
        result['enum'] = [value];
      } else if (key === 'oneOf' || key === 'anyOf') {
        result['anyOf'] = convert(value, stack);
      } else if (key === 'type' && Array.isArray(value)) {
        const types = value.filter((type) => type !== 'null');
        if (types.length !== value.length) result['nullable'] = true;
        if (types.length === 1) result['type'] = types[0];
        else result['anyOf'] = types.map((type) => ({ type }));
      } else if (key === 'items' || key === 'anyOf') {
        result[key] = convert(value, stack);
      } else {
        result[key] = value;
      }
    }
    if (result['enum'] !== undefined && result['type'] === undefined) result['type'] = 'string';
    return result;
  };
  const converted = convert(schema, []) as JsonSchema;
  return {
    schema: converted,
    dropped: [...droppedKeywords].map(
      (keyword) => `${where}: the JSON-schema keyword '${keyword}' is not supported by Gemini and was dropped`,
    ),
  };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
