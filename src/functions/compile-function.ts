import { compileRule } from '../rules/index.js';
import type { CompiledRule } from '../rules/index.js';
import { functionDefinitionSchema } from './function-definition.js';
import type { FunctionChain, FunctionDefinition, FunctionTrigger } from './function-definition.js';
import { mappingIssues } from './input-mapping.js';
import type { CompiledSchema, JsonSchemaValidator } from './json-schema-validator.js';

/** A definition checked once, with its schemas and rules compiled, ready to run many times. */
export interface CompiledFunction {
  definition: FunctionDefinition;
  inputSchema: CompiledSchema | undefined;
  outputSchema: CompiledSchema | undefined;
  triggers: { trigger: FunctionTrigger; filter: CompiledRule | undefined }[];
  chains: { chain: FunctionChain; rule: CompiledRule | undefined }[];
}

export type FunctionCompileResult = { ok: true; compiled: CompiledFunction } | { ok: false; issues: string[] };

/** Variables trigger filters read, and chain rules. */
export const triggerVariables = ['event'] as const;
export const chainVariables = ['output', 'input', 'execution', 'error'] as const;

/**
 * Checks a definition as written (shape, JSON schemas, rules, mappings) and compiles it. Every problem
 * is reported at once, each saying where (`triggers[1].filter: …`), so a definition that registers
 * cannot fail later for a reason that was visible now.
 */
export function compileFunction(input: unknown, validator: JsonSchemaValidator): FunctionCompileResult {
  const parsed = functionDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)),
    };
  }
  const definition = parsed.data;
  const issues: string[] = [];
  const schema = (field: 'inputSchema' | 'outputSchema'): CompiledSchema | undefined => {
    const source = definition[field];
    if (source === undefined) return undefined;
    const compiled = validator.compile(source);
    if (compiled.ok) return compiled.schema;
    issues.push(`${field}: not a usable JSON schema: ${compiled.message}`);
    return undefined;
  };
  const rule = (source: unknown, variables: readonly string[], where: string): CompiledRule | undefined => {
    if (source === undefined) return undefined;
    const compiled = compileRule(source, { variables });
    if (compiled.ok) return compiled.rule;
    for (const issue of compiled.issues) issues.push(`${where}: ${issue.message}`);
    return undefined;
  };
  const inputSchema = schema('inputSchema');
  const outputSchema = schema('outputSchema');
  const triggers = definition.triggers.map((trigger, index) => {
    issues.push(...mappingIssues(trigger.input, triggerVariables, `triggers.${index}.input`));
    return { trigger, filter: rule(trigger.filter, triggerVariables, `triggers.${index}.filter`) };
  });
  const chains = definition.chains.map((chain, index) => {
    issues.push(...mappingIssues(chain.input, chainVariables, `chains.${index}.input`));
    return { chain, rule: rule(chain.rule, chainVariables, `chains.${index}.rule`) };
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, compiled: { definition, inputSchema, outputSchema, triggers, chains } };
}
