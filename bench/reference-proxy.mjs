// The thinnest practical Node proxy (quality.md's reference): node:http server, an undici keep-alive
// pool, parse the body, read `model`, forward, pipe the answer back. Usage: node bench/reference-proxy.mjs PORT UPSTREAM_ORIGIN
import { createServer } from 'node:http';
import { Agent, request } from 'undici';

const port = Number(process.argv[2]);
const upstream = process.argv[3];
const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });

createServer((incoming, outgoing) => {
  const chunks = [];
  incoming.on('data', (data) => chunks.push(data));
  incoming.on('end', async () => {
    try {
      const text = Buffer.concat(chunks).toString();
      const body = JSON.parse(text);
      if (typeof body.model !== 'string') throw new Error('no model');
      const answer = await request(`${upstream}/v1/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      outgoing.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] });
      for await (const data of answer.body) outgoing.write(data);
      outgoing.end();
    } catch (error) {
      outgoing.writeHead(502);
      outgoing.end(String(error));
    }
  });
}).listen(port, '127.0.0.1', () => process.stdout.write(`reference proxy listening on ${port}\n`));
