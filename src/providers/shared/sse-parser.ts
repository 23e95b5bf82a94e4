/**
 * An incremental Server-Sent Events parser (WHATWG event-stream rules): feed it text as it arrives, get
 * complete events. Work per chunk is linear in the chunk's size: lines are cut from a moving start index
 * and only the incomplete tail is kept, so a long stream never re-scans what it already parsed.
 */
export interface SseEvent {
  /** `event:` field; `message` when absent. */
  event: string;
  /** `data:` lines joined with `\n`. */
  data: string;
  id?: string;
  retry?: number;
}

export class SseParser {
  private tail = '';
  private dataLines: string[] = [];
  private eventName = '';
  private eventId: string | undefined;
  private retry: number | undefined;
  private sawCarriageReturn = false;

  /** Parses `text` and returns the events it completed (possibly none). */
  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    const input = this.tail.length > 0 ? this.tail + text : text;
    this.tail = '';
    let start = 0;
    // A CRLF split across two chunks: the LF at the start of this chunk ends nothing new.
    if (this.sawCarriageReturn && input.charCodeAt(0) === 10) start = 1;
    this.sawCarriageReturn = false;
    if (input.indexOf('\r', start) === -1) {
      // The common case (LF line ends only): jump from line end to line end with indexOf.
      for (let newline = input.indexOf('\n', start); newline !== -1; newline = input.indexOf('\n', start)) {
        this.line(input.slice(start, newline), events);
        start = newline + 1;
      }
      if (start < input.length) this.tail = input.slice(start);
      return events;
    }
    for (let index = start; index < input.length; index++) {
      const code = input.charCodeAt(index);
      if (code !== 10 && code !== 13) continue;
      this.line(input.slice(start, index), events);
      if (code === 13) {
        if (index + 1 < input.length) {
          if (input.charCodeAt(index + 1) === 10) index++;
        } else {
          this.sawCarriageReturn = true;
        }
      }
      start = index + 1;
    }
    if (start < input.length) this.tail = input.slice(start);
    return events;
  }

  /** Ends the stream: a last event without its blank line is still delivered, as browsers do not; we are lenient. */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.tail.length > 0) {
      this.line(this.tail, events);
      this.tail = '';
    }
    this.dispatch(events);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataLines.push(value);
        break;
      case 'event':
        this.eventName = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.eventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(events: SseEvent[]): void {
    if (this.dataLines.length === 0) {
      this.eventName = '';
      return;
    }
    const event: SseEvent = {
      event: this.eventName || 'message',
      data: this.dataLines.length === 1 ? (this.dataLines[0] as string) : this.dataLines.join('\n'),
    };
    if (this.eventId !== undefined) event.id = this.eventId;
    if (this.retry !== undefined) event.retry = this.retry;
    events.push(event);
    this.dataLines = [];
    this.eventName = '';
  }
}
