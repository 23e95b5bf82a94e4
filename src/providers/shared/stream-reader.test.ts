import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSseEventBatches } from './stream-reader.js';
import { UpstreamClient } from './upstream-client.js';

/** An SSE body sent in pieces that split a multi-byte character, with a pause so each piece is its own network read. */
const text = 'naïve 🦊 façade';
const event = Buffer.from(`data: ${JSON.stringify({ text })}\n\ndata: [DONE]\n\n`, 'utf8');
const fox = event.indexOf(Buffer.from('🦊', 'utf8'));

describe('readSseEventBatches', () => {
  const client = new UpstreamClient('test');
  let origin = '';
  const server = createServer((_incoming, outgoing) => {
    outgoing.writeHead(200, { 'content-type': 'text/event-stream' });
    outgoing.write(event.subarray(0, fox + 2)); // half of the fox's four bytes
    setTimeout(() => {
      outgoing.write(event.subarray(fox + 2, fox + 3));
      setTimeout(() => outgoing.end(event.subarray(fox + 3)), 20);
    }, 20);
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('keeps a multi-byte character that network reads split', async () => {
    const signal = AbortSignal.timeout(5_000);
    const response = await client.send({ url: `${origin}/stream`, method: 'GET', headers: {}, signal });
    const events: string[] = [];
    let batches = 0;
    for await (const batch of readSseEventBatches(response, client, signal)) {
      batches++;
      for (const item of batch) events.push(item.data);
    }
    expect(events).toEqual([JSON.stringify({ text }), '[DONE]']);
    expect(batches).toBeGreaterThanOrEqual(1);
  });
});
