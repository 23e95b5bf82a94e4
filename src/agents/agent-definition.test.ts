import { describe, expect, it } from 'vitest';
import { modelChoiceOf, parseAgentDefinition } from './agent-definition.js';

describe('parseAgentDefinition', () => {
  it("normalises the seed's agent form", () => {
    const parsed = parseAgentDefinition({
      id: 'outliner',
      role: 'outline',
      provider: 'openai',
      model: 'gpt-4',
      prompts: {
        system: 'Create detailed outlines for technical content.',
        user_template: 'Create outline for {content_type} about {topic}',
      },
    });
    expect(parsed).toMatchObject({
      ok: true,
      agent: {
        id: 'outliner',
        name: 'outliner',
        systemPrompt: 'Create detailed outlines for technical content.',
        userTemplate: 'Create outline for {content_type} about {topic}',
        outputKey: 'outline',
        retry: { attempts: 3, backoffMs: 500, multiplier: 2, maxBackoffMs: 8000 },
        timeoutMs: 120_000,
        tools: [],
      },
    });
  });

  it('reports every problem at once, with its path', () => {
    const parsed = parseAgentDefinition({ id: 'bad id', temperature: 3, retry: { attempts: 0 } });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues.map((issue) => issue.path).sort()).toEqual(['id', 'model', 'retry.attempts', 'temperature', 'userTemplate']);
    const missing = parseAgentDefinition({ id: 'a', provider: 'anthropic' });
    expect(missing).toMatchObject({ ok: false });
    if (missing.ok) return;
    expect(missing.issues.map((issue) => issue.message)).toEqual([
      'an agent needs a user template (userTemplate, prompts.user_template or prompt)',
      "provider 'anthropic' needs a model to call on it (or use provider 'best_available')",
    ]);
  });

  it('refuses an output schema Ajv cannot compile', () => {
    const parsed = parseAgentDefinition({ id: 'a', model: 'auto', userTemplate: 'x', outputSchema: { type: 'no-such-type' } });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues[0]?.path).toBe('outputSchema');
  });

  it('refuses unknown fields rather than ignoring them', () => {
    expect(parseAgentDefinition({ id: 'a', model: 'auto', userTemplate: 'x', temprature: 1 }).ok).toBe(false);
  });
});

describe('modelChoiceOf', () => {
  it('maps best_available, provider pins and plain names to router requests', () => {
    expect(modelChoiceOf({ model: 'best_available', provider: undefined })).toEqual({ model: 'auto', strategy: 'performance_first' });
    expect(modelChoiceOf({ model: 'gpt-4o', provider: 'best_available' })).toEqual({ model: 'gpt-4o', strategy: 'performance_first' });
    expect(modelChoiceOf({ model: 'claude-3-sonnet', provider: 'anthropic' })).toEqual({ model: 'anthropic/claude-3-sonnet' });
    expect(modelChoiceOf({ model: 'openai/gpt-4o', provider: 'anthropic' })).toEqual({ model: 'openai/gpt-4o' });
    expect(modelChoiceOf({ model: 'summarization', provider: undefined })).toEqual({ model: 'summarization' });
    expect(modelChoiceOf({ model: 'auto', provider: undefined })).toEqual({ model: 'auto' });
  });
});
