import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureServer {
  url: string;
  /** What the last request carried. */
  last: { method: string; url: string; headers: IncomingHttpHeaders; body: unknown } | undefined;
  /** Serves this status, content type, body (and extra headers) to the next requests. */
  serve(status: number, contentType: string, body: string, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

/** A tiny upstream on 127.0.0.1 that answers a fixture verbatim and records the request, for adapter tests. */
export async function startFixtureServer(): Promise<FixtureServer> {
  let answer: { status: number; contentType: string; body: string; headers?: Record<string, string> } = {
    status: 200,
    contentType: 'application/json',
    body: '{}',
  };
  const state: FixtureServer = {
    url: '',
    last: undefined,
    serve(status, contentType, body, headers) {
      answer = { status, contentType, body, ...(headers ? { headers } : {}) };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      state.last = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      response.writeHead(answer.status, { 'content-type': answer.contentType, ...answer.headers });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
