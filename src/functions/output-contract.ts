/**
 * The original's output contract, shared by the process and container runtimes (and QuickJS's console
 * fallback): the last non-empty line of stdout is the function's output and must be JSON. A function
 * that prints nothing has the output `null`.
 */
export type ParsedOutput = { ok: true; output: unknown } | { ok: false; message: string };

export function parseLastLine(stdout: string): ParsedOutput {
  const line = lastLine(stdout);
  if (line === undefined) return { ok: true, output: null };
  try {
    return { ok: true, output: JSON.parse(line) as unknown };
  } catch {
    const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line;
    return {
      ok: false,
      message: `the last line of stdout must be JSON (the function's output), but it is: ${shown}; print diagnostics to stderr, or print JSON last`,
    };
  }
}

/** The last non-empty line (trailing `\r` removed), or undefined when there is none. */
export function lastLine(text: string): string | undefined {
  let end = text.length;
  while (end > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end).replace(/\r$/, '').trim();
    if (line !== '') return line;
    end = start - 1;
  }
  return undefined;
}
