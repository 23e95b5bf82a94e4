/**
 * Where a clause's text is in the source, from the offsets the CEL parser records (a node's offset
 * is where its text starts, after any opening parenthesis). Given the start of a clause and the start
 * of the next one, it trims the connective between them and balances parentheses, so
 * `(a || b) && c` gives the clauses `a || b` and `c` (parentheses around a whole clause are dropped).
 */
export function clauseSpan(text: string, start: number, end: number): [number, number] {
  let from = start;
  let to = end;
  const trim = () => {
    while (from < to && isSpace(text[from])) from++;
    while (to > from && isSpace(text[to - 1])) to--;
  };
  trim();
  for (let tail = text.slice(Math.max(from, to - 2), to); ; tail = text.slice(Math.max(from, to - 2), to)) {
    if (tail === '&&' || tail === '||') to -= 2;
    else if (text[to - 1] === '(' || text[to - 1] === '!') to -= 1;
    else break;
    trim();
  }
  let { open, close } = unbalanced(text, from, to);
  while (close > 0) {
    let before = from - 1;
    while (before >= 0 && isSpace(text[before])) before--;
    if (text[before] !== '(') break;
    from = before;
    close--;
  }
  while (close > 0 && text[to - 1] === ')') {
    to--;
    trim();
    close--;
  }
  while (open > 0 && text[from] === '(') {
    from++;
    trim();
    open--;
  }
  while (text[from] === '(' && text[to - 1] === ')' && isBalanced(text, from + 1, to - 1)) {
    from++;
    to--;
    trim();
  }
  return [from, to];
}

/** True when the parentheses between `from` and `to` pair up without ever closing more than opened. */
function isBalanced(text: string, from: number, to: number): boolean {
  let depth = 0;
  for (let index = from; index < to; index++) {
    const char = text[index];
    if (char === '"' || char === "'") index = skipString(text, index, to);
    else if (char === '(') depth++;
    else if (char === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Unmatched `(` and `)` between `from` and `to`, outside string literals. */
function unbalanced(text: string, from: number, to: number): { open: number; close: number } {
  let open = 0;
  let close = 0;
  for (let index = from; index < to; index++) {
    const char = text[index];
    if (char === '"' || char === "'") index = skipString(text, index, to);
    else if (char === '(') open++;
    else if (char === ')') {
      if (open > 0) open--;
      else close++;
    }
  }
  return { open, close };
}

function skipString(text: string, start: number, limit: number): number {
  const quote = text[start];
  for (let index = start + 1; index < limit; index++) {
    if (text[index] === '\\') index++;
    else if (text[index] === quote) return index;
  }
  return limit;
}

function isSpace(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r';
}
