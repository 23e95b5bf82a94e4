import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv';
import type { Ajv, ValidateFunction } from 'ajv';

/**
 * Structured output: an agent's answer checked against its JSON schema with Ajv (docs/adr/0013). The
 * schema is compiled once per definition; a schema Ajv cannot compile is a definition error.
 * Keywords Ajv does not know (`strict: false`) are ignored rather than refused, because providers'
 * structured-output dialects add their own (`propertyOrdering`, `strict`). Ajv is loaded on the first
 * schema compiled, not at start (docs/adr/0014-bundled-build-and-lazy-loading.md).
 */

let ajv: Ajv | undefined;
const instance = (): Ajv =>
  (ajv ??= new (createRequire(import.meta.url)('ajv') as typeof AjvModule).Ajv({ allErrors: true, strict: false, validateFormats: false }));
const compiled = new WeakMap<object, ValidateFunction>();

export type OutputCheck = { ok: true; value: unknown } | { ok: false; problems: string[] };

/** Compiles a schema, or says why it cannot be used. */
export function compileOutputSchema(
  schema: Record<string, unknown>,
): { ok: true; validate: ValidateFunction } | { ok: false; error: string } {
  const cached = compiled.get(schema);
  if (cached) return { ok: true, validate: cached };
  try {
    const validate = instance().compile(schema);
    compiled.set(schema, validate);
    return { ok: true, validate };
  } catch (error) {
    return { ok: false, error: `the output schema is not a usable JSON schema: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * Parses a model's answer as JSON (a ```json fence around it is tolerated) and validates it. Problems
 * are written to be sent back to the model on a retry ("at /score: must be number").
 */
export function checkOutput(text: string, schema: Record<string, unknown>): OutputCheck {
  const compiledSchema = compileOutputSchema(schema);
  if (!compiledSchema.ok) return { ok: false, problems: [compiledSchema.error] };
  let value: unknown;
  try {
    value = JSON.parse(unfence(text));
  } catch (error) {
    return { ok: false, problems: [`the answer is not JSON (${error instanceof Error ? error.message : String(error)})`] };
  }
  if (compiledSchema.validate(value)) return { ok: true, value };
  const problems = (compiledSchema.validate.errors ?? []).map(
    (problem) => `at ${problem.instancePath === '' ? '/' : problem.instancePath}: ${problem.message ?? 'invalid'}`,
  );
  return { ok: false, problems: problems.length > 0 ? problems : ['the answer does not match the schema'] };
}

function unfence(text: string): string {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/.exec(trimmed);
  return fenced?.[1] ?? trimmed;
}
