import { describe, expect, it } from 'vitest';
import { contentPipeline, documentAnalysisPipeline, documentRules, summarizerAgent } from '../../test/support/seed-pipelines.js';
import { analyzeDefinition } from '../engine/analysis.js';
import type { WorkflowDefinition } from '../engine/workflow-definition.js';
import { RuleRegistry } from '../rules/index.js';
import { checkAgentAction } from './agent-action-check.js';
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

const reviewLoop = {
  steps: [
    {
      type: 'write',
      agent: { model: 'auto', userTemplate: 'Write about {topic}', outputKey: 'draft' },
      review: {
        agent: { model: 'auto', userTemplate: 'Review {draft}', outputKey: 'review', outputSchema: { type: 'object' } },
        until: 'data.review.approved == true',
        maxRounds: 2,
      },
    },
    { type: 'publish', agent: { model: 'auto', userTemplate: 'Publish {draft}' } },
  ],
};

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

  it('inlines named rules it knows into one guard on the step', () => {
    const result = compilePipeline(documentAnalysisPipeline(), { agents: { summarizer: summarizerAgent }, rules: documentRules });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const summary = result.definition.transitions.at(-1);
    expect(summary).toMatchObject({ id: 'generate_summary', inputs: [{ place: 'fact_check_done' }] });
    expect(summary?.guard).toEqual({ and: [{ cel: documentRules.fact_check_passed }, { cel: documentRules.content_analyzed }] });
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

  it('unrolls a bounded reviewer loop: accept when the review passes, revise otherwise, go on after the last round', () => {
    const definition = compiled(reviewLoop);
    expect(arcs(definition)).toEqual([
      'start -write-> write_draft_1',
      'write_draft_1 -write_review_1-> write_reviewed_1',
      'write_reviewed_1 -write_accept_1-> write_done',
      'write_reviewed_1 -write_revise_1-> write_revise_1',
      'write_revise_1 -write_round_2-> write_draft_2',
      'write_draft_2 -write_review_2-> write_reviewed_2',
      'write_reviewed_2 -write_accept_2-> write_done',
      'write_done -publish-> end',
    ]);
    const byId = new Map(definition.transitions.map((transition) => [transition.id, transition]));
    expect(byId.get('write_accept_1')?.guard).toBe('data.review.approved == true');
    expect(byId.get('write_revise_1')?.guard).toBe('!(data.review.approved == true)');
    expect(byId.get('write_accept_2')?.guard).toBeUndefined();
    const revision = byId.get('write_round_2')?.action as { agent: { userTemplate: string } };
    expect(revision.agent.userTemplate).toBe(
      "Write about {topic}\n\nYour previous answer:\n{draft}\n\nThe reviewer's feedback:\n{review}\n\nRevise your answer accordingly.",
    );
    expect(compilePipeline({ steps: [{ ...reviewLoop.steps[0], review: { ...reviewLoop.steps[0]!.review, until: 'approved' } }] }).ok).toBe(
      false,
    );
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

describe('compiled pipelines under the engine analysis', () => {
  const parallel = {
    steps: [
      {
        id: 'both',
        parallel: [
          { type: 'a', agent: { model: 'auto', userTemplate: 'A {x}' } },
          { type: 'b', agent: { model: 'auto', userTemplate: 'B {x}' } },
        ],
      },
      { type: 'c', agent: { model: 'auto', userTemplate: '{a} {b}' }, rules: ['has(data.a)', 'fact_check_passed'] },
    ],
  };
  const nets: [string, WorkflowDefinition][] = [
    ['content pipeline', compiled(contentPipeline())],
    ['document pipeline', compiled(documentAnalysisPipeline(), { summarizer: summarizerAgent })],
    ['parallel + join + gates', compiled(parallel)],
    ['reviewer loop', compiled(reviewLoop)],
    [
      'document pipeline, rules inlined',
      (() => {
        const result = compilePipeline(documentAnalysisPipeline(), { agents: { summarizer: summarizerAgent }, rules: documentRules });
        if (!result.ok) throw new Error('does not compile');
        return result.definition;
      })(),
    ],
  ];
  // Named rules left as references resolve through the stored rules (a registry); an unknown one would refuse publication.
  const registry = new RuleRegistry();
  for (const [name, rule] of Object.entries(documentRules)) registry.register(name, rule, { variables: ['data'] });
  for (const [name, definition] of nets) {
    it(`${name}: publishable and a sound workflow net, every agent action valid`, () => {
      const { report } = analyzeDefinition(definition, {
        registry,
        checkAction: (action) => checkAgentAction(action, new Set(['summarizer'])),
      });
      expect(report.issues.filter((issue) => issue.severity === 'error')).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.soundness).toMatchObject({ applicable: true, sound: true });
      expect(report.reachability?.complete).toBe(true);
    });
  }

  it('refuses a reference to a rule that is not stored, with or without a registry', () => {
    const [, definition] = nets[2]!;
    for (const options of [{}, { registry: new RuleRegistry() }]) {
      const { report } = analyzeDefinition(definition, options);
      expect(report.ok).toBe(false);
      expect(report.issues.map((issue) => issue.message).join('\n')).toContain('fact_check_passed');
    }
  });

  it('the action check names an unknown agent and an invalid inline one', () => {
    expect(checkAgentAction({ agent: 'ghost' }, new Set())).toEqual(["agent 'ghost' is not defined"]);
    expect(checkAgentAction({ agent: { model: 'auto' } }, new Set())[0]).toContain('userTemplate');
    expect(checkAgentAction({ function: 'f' }, new Set())).toEqual([]);
  });
});
