import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import formatsImport from 'ajv-formats';

// ajv-formats' types describe its CommonJS build; under Node's ESM the plugin is the default export itself.
const addFormats = ((formatsImport as { default?: unknown }).default ?? formatsImport) as (ajv: Ajv) => Ajv;

/** A compiled JSON schema: `check` answers a list of findings (empty = valid). */
export interface CompiledSchema {
  check(value: unknown): string[];
}

export type SchemaCompileResult = { ok: true; schema: CompiledSchema } | { ok: false; message: string };

/**
 * JSON Schema (draft-07) validation through Ajv (docs/adr/0009): compiled once per definition, run on
 * every input before a function starts and on every output after it ends. Strict mode, so a typo in a
 * keyword or an unknown format is an error when the function is registered rather than a silent pass;
 * the standard formats (`date-time`, `email`, `uri`, ...) come from ajv-formats.
 */
export class JsonSchemaValidator {
  private readonly ajv: Ajv;

  constructor() {
    this.ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, validateSchema: true });
    addFormats(this.ajv);
  }

  compile(schema: Record<string, unknown>): SchemaCompileResult {
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(schema);
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    return {
      ok: true,
      schema: { check: (value) => (validate(value) ? [] : (validate.errors ?? []).slice(0, 20).map(describeError)) },
    };
  }
}

/** `/order/id must be string` — the JSON pointer of the value (or `the value`) and Ajv's message. */
function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'the value' : error.instancePath;
  const extra =
    error.keyword === 'additionalProperties' ? ` ('${String((error.params as { additionalProperty?: unknown }).additionalProperty)}')` : '';
  return `${where} ${error.message ?? 'is invalid'}${extra}`;
}
