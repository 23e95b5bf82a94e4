/**
 * Captured output with a byte cap: text past the cap is dropped and `overflowed` is set, so a function
 * that floods stdout cannot exhaust the server's memory.
 */
export class BoundedText {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  overflowed = false;

  constructor(private readonly maxBytes: number) {}

  /** Appends text or bytes; returns false once the cap is passed. */
  append(chunk: string | Buffer): boolean {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const room = this.maxBytes - this.size;
    if (bytes.length > room) {
      if (room > 0) this.chunks.push(bytes.subarray(0, room));
      this.size = this.maxBytes;
      this.overflowed = true;
      return false;
    }
    this.chunks.push(bytes);
    this.size += bytes.length;
    return true;
  }

  get bytes(): number {
    return this.size;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
