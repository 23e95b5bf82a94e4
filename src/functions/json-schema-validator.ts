import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/** A compiled JSON schema: `check` answers a list of findings (empty = valid). */
export interface CompiledSchema {
  check(value: unknown): string[];
}

export type SchemaCompileResult = { ok: true; schema: CompiledSchema } | { ok: false; message: string };

/**
 * JSON Schema (draft-07) validation through Ajv (docs/adr/0009): compiled once per definition, run on
 * every input before a function starts and on every output after it ends. Strict mode, so a typo in a
 * keyword or an unknown format is an error when the function is registered rather than a silent pass;
 * the standard formats (`date-time`, `email`, `uri`, ...) come from ajv-formats. Ajv is loaded and set
 * up on the first schema compiled, not at start (docs/adr/0014-bundled-build-and-lazy-loading.md).
 */
export class JsonSchemaValidator {
  private ajv: Ajv | undefined;

  private instance(): Ajv {
    if (this.ajv) return this.ajv;
    const { Ajv } = require('ajv') as typeof AjvModule;
    // ajv-formats is CommonJS: its plugin is `module.exports` (with a `default` twin).
    const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv;
    // strict: unknown keywords and formats are errors; `required` without `properties` and keywords used
    // without their `type` stay allowed (common, valid JSON Schema).
    this.ajv = new Ajv({
      allErrors: true,
      strict: true,
      strictRequired: false,
      strictTypes: false,
      allowUnionTypes: true,
      validateSchema: true,
    });
    addFormats(this.ajv);
    return this.ajv;
  }

  compile(schema: Record<string, unknown>): SchemaCompileResult {
    let validate: ValidateFunction;
    try {
      validate = this.instance().compile(schema);
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
