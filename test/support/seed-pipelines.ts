/**
 * The seed's two multi-agent examples (shared/seeds/001, "Workflow-Enhanced LLM Processing" and
 * "Multi-Agent Coordination Example"), as `createWorkflow` inputs. Model names are parameters so the
 * end-to-end tests can use models the emulated providers price; the shape is the seed's, with two
 * additions the seed leaves implicit: the writer's output key (`draft`, which the editor's template
 * reads) and the summarizer's definition (the seed's step names it without a prompt).
 */

export interface SeedModels {
  sonnet: string;
  opus: string;
  gpt4: string;
}

export const seedModelNames: SeedModels = { sonnet: 'claude-3-sonnet', opus: 'claude-3-opus', gpt4: 'gpt-4' };

export function contentPipeline(models: SeedModels = seedModelNames) {
  return {
    workflowId: 'content_creation_pipeline',
    initialData: {
      topic: 'The Future of AI Development',
      target_audience: 'software engineers',
      content_type: 'blog_post',
      target_length: 2000,
    },
    agents: [
      {
        id: 'researcher',
        role: 'research',
        provider: 'anthropic',
        model: models.sonnet,
        prompts: {
          system: 'You are a research specialist. Gather comprehensive information on the given topic.',
          user_template: 'Research: {topic} for {target_audience}',
        },
      },
      {
        id: 'outliner',
        role: 'outline',
        provider: 'openai',
        model: models.gpt4,
        prompts: {
          system: 'Create detailed outlines for technical content.',
          user_template: 'Create outline for {content_type} about {topic}',
        },
      },
      {
        id: 'writer',
        role: 'write',
        provider: 'anthropic',
        model: models.opus,
        outputKey: 'draft',
        prompts: { system: 'You are an expert technical writer.', user_template: 'Write {content_type} following this outline: {outline}' },
      },
      {
        id: 'editor',
        role: 'edit',
        provider: 'openai',
        model: models.gpt4,
        prompts: {
          system: 'You are a professional editor for technical content.',
          user_template: 'Edit and improve this {content_type}: {draft}',
        },
      },
    ],
  };
}

export function documentAnalysisPipeline(models: SeedModels = seedModelNames) {
  return {
    name: 'document_analysis',
    steps: [
      { type: 'extract_text', function: 'pdf_extractor', input: { document_url: 'https://example.com/doc.pdf' } },
      {
        type: 'analyze_content',
        agent: 'content_analyzer',
        provider: 'anthropic',
        model: models.sonnet,
        prompt: 'Analyze this document for key themes and insights: {text}',
      },
      {
        type: 'fact_check',
        agent: 'fact_checker',
        provider: 'openai',
        model: models.gpt4,
        prompt: 'Verify factual claims in this analysis: {analyze_content}',
        outputSchema: {
          type: 'object',
          properties: { passed: { type: 'boolean' }, issues: { type: 'array', items: { type: 'string' } } },
          required: ['passed'],
        },
      },
      { type: 'generate_summary', agent: 'summarizer', provider: 'best_available', rules: ['fact_check_passed', 'content_analyzed'] },
    ],
    stream: true,
  };
}

/** The summarizer the document pipeline's last step names, and the two rules that gate it. */
export const summarizerAgent = {
  id: 'summarizer',
  role: 'summary',
  model: 'best_available',
  userTemplate: 'Summarize for a reader in a hurry: {analyze_content}',
};

export const documentRules = {
  fact_check_passed: 'data.fact_check.passed == true',
  content_analyzed: "has(data.analyze_content) && data.analyze_content != ''",
};
