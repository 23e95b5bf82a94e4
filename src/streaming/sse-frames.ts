/** SSE framing for the gateway's outgoing streams. */

export const sseDone = 'data: [DONE]\n\n';
export const sseKeepAlive = ': keep-alive\n\n';

/** One comment frame of several lines (clients ignore comments); each line must be free of newlines. */
export function sseComment(lines: readonly string[]): string {
  return lines.map((line) => `: ${line}\n`).join('') + '\n';
}

export function sseData(json: string): string {
  return `data: ${json}\n\n`;
}

/** Several `data:` frames as one string, built in one join (a passthrough batch is ~20 chunks). */
export function sseFrames(jsons: readonly string[]): string {
  if (jsons.length === 0) return '';
  if (jsons.length === 1) return sseData(jsons[0] as string);
  return `data: ${jsons.join('\n\ndata: ')}\n\n`;
}

export const sseHeaders: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** A named event (`event:` line then `data:`), as Anthropic's streams frame every event. */
export function sseEvent(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}
