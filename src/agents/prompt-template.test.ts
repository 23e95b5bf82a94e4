import { describe, expect, it } from 'vitest';
import { lookup, placeholdersOf, renderTemplate } from './prompt-template.js';

const scope = {
  data: { topic: 'Petri nets', review: { score: 4, notes: ['tight', 'clear'] }, count: 3, flag: false, empty: '' },
  metadata: { source: 'webhook', topic: 'shadowed' },
  variables: { audience: 'engineers', topic: 'also shadowed' },
};

describe('renderTemplate', () => {
  it('fills bare and dotted paths from data, then variables, then metadata', () => {
    expect(renderTemplate('Research: {topic} for {audience} (via {source})', scope)).toEqual({
      text: 'Research: Petri nets for engineers (via webhook)',
    });
    expect(renderTemplate('{review.score}/{review.notes.1}/{count}/{flag}/[{empty}]', scope)).toEqual({ text: '4/clear/3/false/[]' });
  });

  it('takes explicit roots', () => {
    expect(renderTemplate('{metadata.topic} {variables.topic} {data.topic}', scope)).toEqual({ text: 'shadowed also shadowed Petri nets' });
  });

  it('writes objects as JSON, keeps non-path braces and unescapes doubled ones', () => {
    expect(renderTemplate('Notes: {review.notes}', scope)).toEqual({ text: 'Notes: [\n  "tight",\n  "clear"\n]' });
    expect(renderTemplate('Answer like {"score": 1} or {{topic}}', scope)).toEqual({ text: 'Answer like {"score": 1} or {topic}' });
  });

  it('names every missing variable, with what is there and a suggestion — never an empty string', () => {
    const result = renderTemplate('Write {content_type} following {outline} about {topc}', scope);
    expect(result).toMatchObject({ missing: ['content_type', 'outline', 'topc'] });
    if (!('missing' in result)) throw new Error('expected missing variables');
    expect(result.message).toContain('{content_type}, {outline}, {topc}');
    expect(result.message).toContain('data has topic, review, count, flag, empty');
    expect(result.message).toContain('did you mean {topic} for {topc}?');
  });

  it('treats a path through a scalar or an array with a non-number as missing', () => {
    expect(lookup(scope, 'topic.length')).toBeUndefined();
    expect(lookup(scope, 'review.notes.first')).toBeUndefined();
    expect(lookup(scope, 'data.toString')).toBeUndefined();
  });

  it('lists placeholders in order of first use', () => {
    expect(placeholdersOf('{a} {b.c} {a} {{d}} {"e": 1}')).toEqual(['a', 'b.c']);
  });
});
