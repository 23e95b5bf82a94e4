/** SSE framing for the gateway's outgoing streams. */

export const sseDone = 'data: [DONE]\n\n';
export const sseKeepAlive = ': keep-alive\n\n';

export function sseData(json: string): string {
  return `data: ${json}\n\n`;
}

export const sseHeaders: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};
