import type { parse } from '@bufbuild/cel';

/**
 * Small helpers over the CEL parser's AST (the `cel.expr.Expr` protobuf message): a scoped walk that
 * knows which names a comprehension (`exists`, `all`, `map`, ...) binds, source offsets, and the dotted
 * path a select chain reads (`token.data.priority`).
 */

/** A parsed expression with its source info (offsets), as `@bufbuild/cel`'s `parse` returns it. */
export type ParsedCel = ReturnType<typeof parse>;
/** One node of the parsed expression. */
export type CelExpr = ParsedCel['expr'];

/** Names the language itself resolves: the type names usable as values (`type(x) == string`). */
export const builtinIdentifiers: ReadonlySet<string> = new Set([
  'int',
  'uint',
  'double',
  'bool',
  'string',
  'bytes',
  'list',
  'map',
  'null_type',
  'type',
]);

/** Calls the parser emits for operators and macros that are not in the function table. */
export const specialForms: ReadonlySet<string> = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '@not_strictly_false']);

/** Visits every node with the set of comprehension variables in scope at that node. */
export function walkCel(
  expr: CelExpr | undefined,
  bound: ReadonlySet<string>,
  visit: (node: CelExpr, bound: ReadonlySet<string>) => void,
): void {
  if (expr === undefined) return;
  visit(expr, bound);
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'selectExpr':
      walkCel(kind.value.operand, bound, visit);
      return;
    case 'callExpr':
      walkCel(kind.value.target, bound, visit);
      for (const arg of kind.value.args) walkCel(arg, bound, visit);
      return;
    case 'listExpr':
      for (const element of kind.value.elements) walkCel(element, bound, visit);
      return;
    case 'structExpr':
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') walkCel(entry.keyKind.value, bound, visit);
        walkCel(entry.value, bound, visit);
      }
      return;
    case 'comprehensionExpr': {
      const loop = kind.value;
      const inLoop = new Set([...bound, loop.iterVar, loop.iterVar2, loop.accuVar].filter((name) => name !== ''));
      walkCel(loop.iterRange, bound, visit);
      walkCel(loop.accuInit, bound, visit);
      walkCel(loop.loopCondition, inLoop, visit);
      walkCel(loop.loopStep, inLoop, visit);
      walkCel(loop.result, new Set([...bound, loop.accuVar]), visit);
      return;
    }
    default:
      return;
  }
}

/** The 0-based source offset the parser recorded for a node. */
export function positionOf(parsed: ParsedCel, id: bigint): number | undefined {
  return parsed.sourceInfo?.positions[id.toString()];
}

/** The smallest recorded offset in a subtree: where its text starts (before any opening parenthesis). */
export function startOf(parsed: ParsedCel, expr: CelExpr): number {
  let start = Number.POSITIVE_INFINITY;
  walkCel(expr, new Set(), (node) => {
    const position = positionOf(parsed, node.id);
    if (position !== undefined && position < start) start = position;
  });
  return Number.isFinite(start) ? start : 0;
}

/**
 * The path a node reads, when it is a variable, a field select or a constant-key index on one
 * (`token.data['score']` → `['token', 'data', 'score']`); undefined for anything else.
 */
export function readPath(expr: CelExpr): string[] | undefined {
  const kind = expr.exprKind;
  if (kind.case === 'identExpr') return [kind.value.name];
  if (kind.case === 'selectExpr' && kind.value.operand !== undefined) {
    const base = readPath(kind.value.operand);
    return base === undefined ? undefined : [...base, kind.value.field];
  }
  if (kind.case === 'callExpr' && kind.value.function === '_[_]' && kind.value.args.length === 2) {
    const [operand, key] = kind.value.args as [CelExpr, CelExpr];
    const base = readPath(operand);
    const constant = key.exprKind.case === 'constExpr' ? key.exprKind.value.constantKind : undefined;
    if (base === undefined || constant === undefined) return undefined;
    if (constant.case === 'stringValue' || constant.case === 'int64Value' || constant.case === 'uint64Value')
      return [...base, String(constant.value)];
  }
  return undefined;
}

/** The node with `id` in the tree, for locating run-time errors. */
export function findNode(root: CelExpr, id: bigint): CelExpr | undefined {
  let found: CelExpr | undefined;
  walkCel(root, new Set(), (node) => {
    if (found === undefined && node.id === id) found = node;
  });
  return found;
}
