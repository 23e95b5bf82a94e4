// The benchmark's upstream: an OpenAI-format (or, with --format anthropic, Anthropic-format) emulator
// answering as fast as node:http can, optionally after a delay. Plain JS so it costs the same in every run.
// Usage: node bench/upstream.mjs --port 7001 [--delay-ms 0] [--format openai|anthropic] [--chunk-interval-ms 0]
import { createServer } from 'node:http';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((pair) => pair.trim().split(/\s+/)),
);
const port = Number(args.port ?? 7001);
const delayMs = Number(args['delay-ms'] ?? 0);
const format = args.format ?? 'openai';
const chunkIntervalMs = Number(args['chunk-interval-ms'] ?? 0);

const content = 'The quick brown fox jumps over the lazy dog. '.repeat(9).trim();
const openaiJson = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1732000000,
  model: 'gpt-4o-2024-08-06',
  choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 90, total_tokens: 102 },
  system_fingerprint: 'fp_bench',
});
const chunk = (delta, finish = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1732000000, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const openaiFrames = [
  chunk({ role: 'assistant', content: '' }),
  ...Array.from({ length: 18 }, (_, i) => chunk({ content: `word${i} ` })),
  chunk({}, 'stop'),
];
const openaiUsage = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1732000000, model: 'gpt-4o-2024-08-06', choices: [], usage: { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30 } })}\n\ndata: [DONE]\n\n`;

const anthropicJson = JSON.stringify({
  id: 'msg_bench',
  type: 'message',
  role: 'assistant',
  model: 'claude-3-5-sonnet-20241022',
  content: [{ type: 'text', text: content }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 12, output_tokens: 90, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
});
const event = (name, data) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
const anthropicFrames = [
  event('message_start', {
    message: {
      id: 'msg_bench',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-sonnet-20241022',
      content: [],
      stop_reason: null,
      usage: { input_tokens: 12, output_tokens: 1 },
    },
  }),
  event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ...Array.from({ length: 16 }, (_, i) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `word${i} ` } })),
  event('content_block_stop', { index: 0 }),
  event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 16 } }),
  event('message_stop', {}),
];

createServer((request, response) => {
  const chunks = [];
  request.on('data', (data) => chunks.push(data));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const stream = body.includes('"stream":true');
    const answer = () => {
      if (!stream) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(format === 'anthropic' ? anthropicJson : openaiJson);
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const frames =
        format === 'anthropic'
          ? anthropicFrames
          : [...openaiFrames, body.includes('"include_usage":true') ? openaiUsage : 'data: [DONE]\n\n'];
      if (chunkIntervalMs === 0) return response.end(frames.join(''));
      let index = 0;
      const timer = setInterval(() => {
        if (index >= frames.length || response.destroyed) {
          clearInterval(timer);
          response.end();
          return;
        }
        response.write(frames[index++]);
      }, chunkIntervalMs);
      response.on('close', () => clearInterval(timer));
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
}).listen(port, '127.0.0.1', () => process.stdout.write(`upstream listening on ${port}\n`));
