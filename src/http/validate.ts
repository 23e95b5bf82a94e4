import type { z } from 'zod';
import { ErrorCode, invalidRequest } from '../core/errors.js';

/**
 * Validates a body against a zod schema, or throws a 400 whose message names the field in OpenAI's
 * `param` style (`messages[1].content`) and says what was expected.
 */
export function validateBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.infer<Schema> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.', undefined, ErrorCode.invalidRequest);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = deepestIssue(result.error.issues);
  const param = paramOf(issue.path);
  const message = param ? `Invalid \`${param}\`: ${issue.message}` : issue.message;
  throw invalidRequest(message, param || undefined);
}

type Issue = z.core.$ZodIssue;

/** For union failures zod reports the union; the most specific branch error is more useful to a person. */
function deepestIssue(issues: readonly Issue[]): Issue {
  const first = issues[0] as Issue;
  if (first.code === 'invalid_union' && first.errors.length > 0) {
    const branches = first.errors.map((branch) => branch.map((inner) => ({ ...inner, path: [...first.path, ...inner.path] })));
    const best = branches.reduce((left, right) => (maxDepth(right) > maxDepth(left) ? right : left));
    if (maxDepth(best) > first.path.length) return deepestIssue(best as Issue[]);
  }
  return first;
}

function maxDepth(issues: readonly Issue[]): number {
  return issues.reduce((depth, issue) => Math.max(depth, issue.path.length), 0);
}

function paramOf(path: readonly PropertyKey[]): string {
  let param = '';
  for (const key of path) {
    if (typeof key === 'number') param += `[${key}]`;
    else param += param ? `.${String(key)}` : String(key);
  }
  return param;
}
