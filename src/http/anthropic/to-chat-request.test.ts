import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.js';
import { imageResultNote } from './convert-messages.js';
import { toChatRequest, toCountedRequest } from './to-chat-request.js';

const png = 'iVBORw0KGgo=';
const minimal = { model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'Hi' }] };

/** The 400 a body gets: its message and the field it names. */
function refusal(body: unknown): { message: string; param: string | undefined; code: string } {
  try {
    toChatRequest(body);
  } catch (error) {
    if (error instanceof GatewayError && error.status === 400) return { message: error.message, param: error.param, code: error.code };
    throw error;
  }
  throw new Error('the body was accepted');
}

describe('toChatRequest (Anthropic Messages → the internal OpenAI-shaped request)', () => {
  it('maps a full tool-use conversation: system, images, tool_use ↔ tool_calls, tool_result → tool messages', () => {
    const { chat, warnings } = toChatRequest({
      model: 'anthropic/claude-sonnet-4-5',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather in these?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Oslo' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'rain' }], is_error: true },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
      ],
      tools: [
        { name: 'weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
      ],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      stop_sequences: ['END'],
      temperature: 0.2,
      top_p: 0.9,
      metadata: { user_id: 'user-42' },
      stream: true,
    });
    expect(warnings).toEqual([]);
    expect(chat).toEqual({
      model: 'anthropic/claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather in these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'text', text: 'Checking.' }],
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: rain' },
        { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'weather',
            description: 'Weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: false,
      stop: ['END'],
      temperature: 0.2,
      top_p: 0.9,
      user: 'user-42',
      stream: true,
    });
  });

  it.each([
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
    [
      { type: 'tool', name: 'weather' },
      { type: 'function', function: { name: 'weather' } },
    ],
  ])('maps tool_choice %j', (choice, expected) => {
    const { chat } = toChatRequest({ ...minimal, tools: [{ name: 'weather', input_schema: { type: 'object' } }], tool_choice: choice });
    expect(chat.tool_choice).toEqual(expected);
    expect(chat.parallel_tool_calls).toBeUndefined();
  });

  it('moves images of a tool result into a user message after the tool messages, which carry text only', () => {
    const { chat } = toChatRequest({
      ...minimal,
      messages: [
        { role: 'user', content: 'Take a screenshot' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_s', name: 'screenshot', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_s',
              content: [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'AAAA' } }],
            },
          ],
        },
      ],
    });
    expect(chat.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_s', type: 'function', function: { name: 'screenshot', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_s', content: imageResultNote },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } }] },
    ]);
  });

  it('keeps system turns in place, and drops with a warning what has no carrier', () => {
    const { chat, warnings } = toChatRequest({
      ...minimal,
      top_k: 5,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      service_tier: 'auto',
      messages: [
        { role: 'user', content: 'one' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 'sig' },
            { type: 'text', text: 'two' },
          ],
        },
        { role: 'system', content: 'Now be formal.' },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'r', cache_control: { type: 'ephemeral' } }] },
      ],
      tools: [{ name: 't', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
    });
    expect(chat.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'system', 'tool']);
    expect(chat.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'two' }] });
    expect(chat['top_k']).toBeUndefined();
    expect(chat['thinking']).toBeUndefined();
    expect(warnings).toEqual([
      'messages[1].content[0]: thinking blocks are not carried over (the backends take no thinking history) and were dropped',
      'messages[3].content[0]: cache_control on a tool_result cannot be carried over (tool messages take no cache marker) and was dropped',
      'tools[0]: cache_control on a tool cannot be carried over and was dropped',
      'top_k is not carried over (the backends are reached with OpenAI parameters: temperature, top_p) and was dropped',
      'thinking (enabled) is not carried over to the backends and was dropped; the answer has no thinking blocks',
      "service_tier is not supported by this gateway's Messages API and was dropped",
    ]);
  });

  it('maps output_config.format to response_format json_schema, and reads routing fields without forwarding them', () => {
    const schema = { type: 'object', properties: { answer: { type: 'number' } } };
    const { chat, route, warnings } = toChatRequest({
      ...minimal,
      output_config: { format: { type: 'json_schema', schema }, effort: 'high' },
      models: ['openai/gpt-4o'],
      circuit_breaker: { routing_strategy: 'cost_optimized' },
    });
    expect(chat.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema } });
    expect(route).toEqual({ models: ['openai/gpt-4o'], circuit_breaker: { routing_strategy: 'cost_optimized' } });
    expect(chat['models']).toBeUndefined();
    expect(chat['circuit_breaker']).toBeUndefined();
    expect(warnings).toEqual(['output_config.effort is not carried over and was dropped']);
  });

  it.each([
    [{ model: 'm', messages: minimal.messages }, 'max_tokens', /max_tokens.*required/],
    [{ ...minimal, max_tokens: 0 }, 'max_tokens', /at least 1/],
    [{ ...minimal, messages: [] }, 'messages', /at least one message/],
    [{ ...minimal, messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', /role/],
    [{ ...minimal, temperature: 1.5 }, 'temperature', /1/],
    [{ ...minimal, metadata: { user_id: 'u', tier: 'gold' } }, 'metadata', /user_id/],
    [
      {
        ...minimal,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'x' } }] }],
      },
      'messages[0].content[0].source.media_type',
      /image\/png/,
    ],
    [
      {
        ...minimal,
        messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'x' } }] }],
      },
      'messages[0].content[0].type',
      /'document'/,
    ],
    [
      { ...minimal, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 't', name: 'n', input: {} }] }] },
      'messages[0].content[0].type',
      /'tool_use'.*user turn/,
    ],
    [
      { ...minimal, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f_1' } }] }] },
      'messages[0].content[0].source.type',
      /Files API/,
    ],
    [{ ...minimal, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0].type', /Anthropic's servers/],
    [{ ...minimal, tools: [{ name: 'no_schema' }] }, 'tools[0].input_schema', /input_schema/],
    [{ ...minimal, mcp_servers: [{ type: 'url', url: 'https://mcp.example', name: 'x' }] }, 'mcp_servers', /MCP servers/],
    [{ ...minimal, tool_choice: { type: 'sometimes' } }, 'tool_choice.type', /auto/],
  ])('refuses %j with a 400 naming %s', (body, param, message) => {
    const error = refusal(body);
    expect(error.param).toBe(param);
    expect(error.message).toMatch(message);
  });

  it('count_tokens takes the same conversation without max_tokens', () => {
    const { chat } = toCountedRequest({ model: 'm', system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] });
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    expect(chat.max_tokens).toBeUndefined();
  });
});
