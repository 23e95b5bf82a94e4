/**
 * An incremental newline-delimited JSON splitter (Ollama's stream format): feed text, get complete
 * non-empty lines. Linear per chunk; only the incomplete tail is kept between calls.
 */
export class NdjsonParser {
  private tail = '';

  push(text: string): string[] {
    const input = this.tail.length > 0 ? this.tail + text : text;
    const lines: string[] = [];
    let start = 0;
    for (let index = input.indexOf('\n'); index !== -1; index = input.indexOf('\n', start)) {
      const line = input.slice(start, index).trim();
      if (line.length > 0) lines.push(line);
      start = index + 1;
    }
    this.tail = start < input.length ? input.slice(start) : '';
    return lines;
  }

  end(): string[] {
    const line = this.tail.trim();
    this.tail = '';
    return line.length > 0 ? [line] : [];
  }
}
