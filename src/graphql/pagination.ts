import { invalidRequest } from '../core/errors.js';

/** The largest page a list hands out; `first` defaults to it. */
export const maxPageSize = 100;

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/**
 * One page of a list as a Relay-style connection: `first` items (1–100, default 100) after the opaque
 * cursor `after` (the position of the last item of the previous page). A bad `first` or a cursor this
 * server did not hand out is a 400 `invalid_request` naming the argument.
 */
export function paginate<T>(items: readonly T[], args: { first?: number | null; after?: string | null }): Connection<T> {
  const first = args.first ?? maxPageSize;
  if (!Number.isInteger(first) || first < 1 || first > maxPageSize)
    throw invalidRequest(`first must be a whole number from 1 to ${maxPageSize}.`, 'first');
  const start = args.after === undefined || args.after === null ? 0 : decodeCursor(args.after) + 1;
  const page = items.slice(start, start + first);
  const edges = page.map((node, index) => ({ cursor: encodeCursor(start + index), node }));
  return {
    edges,
    nodes: page,
    pageInfo: { hasNextPage: start + first < items.length, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: items.length,
  };
}

function encodeCursor(position: number): string {
  return Buffer.from(`cursor:${position}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^cursor:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) throw invalidRequest('after is not a cursor from this list (use pageInfo.endCursor of the previous page).', 'after');
  return Number(match[1]);
}
