import { describe, expect, it } from 'vitest';
import { contentPipeline, documentAnalysisPipeline, summarizerAgent } from '../../test/support/seed-pipelines.js';
import type { WorkflowDefinition } from '../engine/workflow-definition.js';
import { compilePipeline, guardsOf } from './pipeline-compiler.js';

function compiled(input: unknown, agents?: Record<string, Record<string, unknown>>): WorkflowDefinition {
  const result = compilePipeline(input, agents === undefined ? {} : { agents });
  if (!result.ok) throw new Error(JSON.stringify(result.issues, null, 2));
  return result.definition;
}

/** The net as `from --transition--> to` lines, for readable assertions. */
function arcs(definition: WorkflowDefinition): string[] {
  return definition.transitions.map(
    (transition) =>
      `${transition.inputs.map((arc) => arc.place).join('+')} -${transition.id}-> ${transition.outputs.map((arc) => arc.place).join('+')}`,
  );
}

describe('compilePipeline', () => {
  it("compiles the seed's content pipeline (agents form) to a chain, each agent inline with its own model", () => {
    const result = compilePipeline(contentPipeline());
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const { definition } = result;
    expect(definition).toMatchObject({ id: 'content_creation_pipeline', start: ['start'], end: ['end'] });
    expect(arcs(definition)).toEqual([
      'start -researcher-> researcher_done',
      'researcher_done -outliner-> outliner_done',
      'outliner_done -writer-> writer_done',
      'writer_done -editor-> end',
    ]);
    expect(definition.transitions.map((transition) => transition.trigger)).toEqual(['automatic', 'automatic', 'automatic', 'automatic']);
    expect(definition.transitions[2]?.action).toMatchObject({
      agent: { id: 'writer', provider: 'anthropic', model: 'claude-3-opus', outputKey: 'draft' },
    });
    expect(result.initialData).toMatchObject({ topic: 'The Future of AI Development', content_type: 'blog_post' });
  });

  it("compiles the seed's document pipeline: a function step, agent steps, and the rule-gated summary", () => {
    const definition = compiled(documentAnalysisPipeline(), { summarizer: summarizerAgent });
    expect(arcs(definition)).toEqual([
      'start -extract_text-> extract_text_done',
      'extract_text_done -analyze_content-> analyze_content_done',
      'analyze_content_done -fact_check-> fact_check_done',
      // Two named rules: one gate transition in front, the other on the step itself.
      'fact_check_done -generate_summary_gate_1-> generate_summary_gate_1',
      'generate_summary_gate_1 -generate_summary-> end',
    ]);
    const [extract, analyze, factCheck, gate, summary] = definition.transitions;
    expect(extract?.action).toEqual({ function: 'pdf_extractor' });
    expect(definition.variables).toEqual({ document_url: 'https://example.com/doc.pdf' });
    expect(analyze?.action).toEqual({
      agent: {
        id: 'content_analyzer',
        provider: 'anthropic',
        model: 'claude-3-sonnet',
        outputKey: 'analyze_content',
        userTemplate: 'Analyze this document for key themes and insights: {text}',
      },
    });
    expect(factCheck?.action).toMatchObject({
      agent: { id: 'fact_checker', outputKey: 'fact_check', outputSchema: { required: ['passed'] } },
    });
    expect(gate?.guard).toEqual({ ref: 'content_analyzed' });
    expect(summary?.guard).toEqual({ ref: 'fact_check_passed' });
    // The defined summarizer with the step's override: best_available on any provider.
    expect(summary?.action).toEqual({ agent: { ...summarizerAgent, provider: 'best_available' } });
  });

  it('compiles parallel branches to a fork and a join, with nested sequences', () => {
    const definition = compiled({
      id: 'review',
      steps: [
        {
          id: 'both',
          parallel: [
            { type: 'review', agent: { model: 'auto', userTemplate: 'Review {diff}' } },
            [
              { type: 'scan', agent: { model: 'auto', userTemplate: 'Scan {diff}' } },
              { type: 'triage', agent: { model: 'auto', userTemplate: 'Triage {scan}' } },
            ],
          ],
        },
        { type: 'summarise', agent: { model: 'best_available', userTemplate: '{review} {triage}' }, rules: ['data.scan != "blocked"'] },
      ],
    });
    expect(arcs(definition)).toEqual([
      'start -both_fork-> both_branch_1+both_branch_2',
      'both_branch_1 -review-> both_branch_1_done',
      'both_branch_2 -scan-> scan_done',
      'scan_done -triage-> both_branch_2_done',
      'both_branch_1_done+both_branch_2_done -both_join-> both_done',
      'both_done -summarise-> end',
    ]);
    expect(definition.transitions.at(-1)?.guard).toBe('data.scan != "blocked"');
  });

  it('combines several inline rules into one guard and keeps names as references', () => {
    expect(guardsOf(['data.a > 1', { field: 'data.b', op: 'exists' }, 'review-ok@2'])).toEqual([
      { and: [{ cel: 'data.a > 1' }, { field: 'data.b', op: 'exists' }] },
      { ref: 'review-ok@2' },
    ]);
    expect(guardsOf([{ ref: 'x' }])).toEqual([{ ref: 'x' }]);
    expect(guardsOf([])).toEqual([]);
  });

  it('reports every problem at once: unknown agents, invalid inline agents, bad shapes', () => {
    const result = compilePipeline(
      {
        steps: [
          { type: 'a', agent: 'ghost' },
          { type: 'b', agent: { model: 'auto' } },
          { type: 'c', agent: 'ghost', provider: 'openai' },
        ],
      },
      { agents: {} },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.path)).toEqual(['steps.0.agent', 'steps.1.agent.userTemplate', 'steps.2.agent']);
    expect(result.issues[0]?.message).toBe("step 'a' names agent 'ghost', which is not defined; define it or give the step a prompt");
    expect(compilePipeline({ steps: [] }).ok).toBe(false);
    expect(compilePipeline({ steps: [{ type: 'x', agent: 'a', temprature: 1 }] }).ok).toBe(false);
  });

  it('gives repeated step names distinct ids', () => {
    const definition = compiled({
      steps: [
        { type: 'draft', agent: { model: 'auto', userTemplate: 'x' } },
        { type: 'draft', agent: { model: 'auto', userTemplate: 'y' } },
      ],
    });
    expect(definition.transitions.map((transition) => transition.id)).toEqual(['draft', 'draft_2']);
  });
});
