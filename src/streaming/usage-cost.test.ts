import { describe, expect, it } from 'vitest';
import { withUsageCost } from './usage-cost.js';

const response = {
  id: 'chatcmpl-abc',
  object: 'chat.completion',
  created: 1_718_000_000,
  model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 },
};

const usageChunk = {
  id: 'chatcmpl-abc',
  object: 'chat.completion.chunk',
  created: 1_718_000_000,
  model: 'gpt-4o',
  choices: [],
  usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, prompt_tokens_details: { cached_tokens: 0 } },
};

interface WithUsage {
  usage: Record<string, unknown> & { cost?: number };
}

function parsed(text: string): WithUsage {
  return JSON.parse(text) as WithUsage;
}

describe('withUsageCost', () => {
  it('adds the cost as the first key of the usage of a compact response, touching nothing else', () => {
    const text = JSON.stringify(response);
    const result = withUsageCost(text, 0.000042);
    expect(result).toBe(text.replace('"usage":{', '"usage":{"cost":0.000042,'));
    expect(parsed(result)).toEqual({ ...response, usage: { cost: 0.000042, ...response.usage } });
  });

  it('adds the cost to a usage chunk of a stream', () => {
    const result = withUsageCost(JSON.stringify(usageChunk), 0.0125);
    expect(parsed(result).usage).toEqual({ cost: 0.0125, ...usageChunk.usage });
  });

  it('adds the cost to a pretty-printed response', () => {
    const text = JSON.stringify(response, null, 2);
    const result = withUsageCost(text, 1.5);
    expect(parsed(result)).toEqual({ ...response, usage: { cost: 1.5, ...response.usage } });
    expect(result.replace('"cost":1.5,', '')).toBe(text);
  });

  it('accepts whitespace around the colon and inside the braces', () => {
    expect(parsed(withUsageCost('{"usage" :\n\t{ "prompt_tokens": 1 } }', 0.2)).usage).toEqual({ cost: 0.2, prompt_tokens: 1 });
    expect(withUsageCost('{"usage":{}}', 0.5)).toBe('{"usage":{"cost":0.5}}');
    expect(parsed(withUsageCost('{"usage": {  \n }}', 0.5)).usage).toEqual({ cost: 0.5 });
  });

  it.each([
    ['no usage', JSON.stringify({ ...response, usage: undefined })],
    ['usage null', '{"id":"x","choices":[],"usage": null}'],
    ['usage not an object', '{"usage":"n/a"}'],
    ['usage a list', '{"usage":[1,2]}'],
    ['the word usage only as a value', '{"object":"usage"}'],
    ['a cost already', '{"usage":{"prompt_tokens":1,"completion_tokens":1,"cost":0.1}}'],
    ['a cost already, pretty-printed', JSON.stringify({ usage: { cost: 0.1, total_tokens: 3 } }, null, 2)],
    ['an empty text', ''],
  ])('leaves the text unchanged with %s', (_label, text) => {
    expect(withUsageCost(text, 0.25)).toBe(text);
  });

  it('leaves the text unchanged when the usage has a cost after a nested object', () => {
    // OpenRouter-style usage: `prompt_tokens_details` before `cost`. The check only looks up to the
    // first `}` (the nested object's), misses the cost and adds a second "cost" key.
    const text = '{"usage":{"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":2},"cost":0.5}}';
    expect(withUsageCost(text, 0.25)).toBe(text);
  });

  it('does not touch a message whose content contains the text "usage":{ (escaped inside a string)', () => {
    const content = 'Put this in the reply: "usage":{"cost":1} and "usage": {}';
    const withContent = { ...response, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] };
    const result = parsed(withUsageCost(JSON.stringify(withContent), 0.003)) as WithUsage & typeof withContent;
    expect(result.choices[0]?.message.content).toBe(content);
    expect(result.usage).toEqual({ cost: 0.003, ...response.usage });

    const contentOnly = JSON.stringify({ choices: [{ delta: { content } }] });
    expect(withUsageCost(contentOnly, 0.003)).toBe(contentOnly);
  });

  it('adds the cost to the top-level usage, not to a usage-named value inside a tool call argument', () => {
    const toolCall = { id: 'call_1', type: 'function', function: { name: 'report', arguments: '{"usage":{"n":1}}' } };
    const body = { ...response, choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [toolCall] } }] };
    const result = parsed(withUsageCost(JSON.stringify(body), 0.01)) as WithUsage & typeof body;
    expect(result.choices[0]?.message.tool_calls[0]?.function.arguments).toBe('{"usage":{"n":1}}');
    expect(result.usage.cost).toBe(0.01);
  });

  it('takes the last "usage" key: a "usage" value or a nested usage object before it is left alone', () => {
    const valueFirst = '{"object":"usage","usage":{"prompt_tokens":1}}';
    expect(parsed(withUsageCost(valueFirst, 0.5))).toEqual({ object: 'usage', usage: { cost: 0.5, prompt_tokens: 1 } });
    const nestedFirst = '{"choices":[{"message":{"metadata":{"usage":{"n":1}}}}],"usage":{"prompt_tokens":1}}';
    const result = JSON.parse(withUsageCost(nestedFirst, 0.5)) as { choices: [{ message: { metadata: unknown } }]; usage: unknown };
    expect(result.choices[0].message.metadata).toEqual({ usage: { n: 1 } });
    expect(result.usage).toEqual({ cost: 0.5, prompt_tokens: 1 });
  });

  it.each([0, 0.1 + 0.2, 1e-9, 123.456789012345, 0.000123])('writes %s as a JSON number that parses back to the cost', (cost) => {
    const result = parsed(withUsageCost(JSON.stringify(response), cost));
    expect(result.usage.cost).toBe(Number(cost.toPrecision(12)));
    expect(Math.abs((result.usage.cost ?? NaN) - cost)).toBeLessThanOrEqual(Math.abs(cost) * 1e-11);
  });

  it('rounds to 12 significant digits (no float noise such as 0.30000000000000004)', () => {
    expect(withUsageCost('{"usage":{}}', 0.1 + 0.2)).toBe('{"usage":{"cost":0.3}}');
  });
});
