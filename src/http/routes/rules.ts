import type { FastifyInstance } from 'fastify';
import type { AppContainer } from '../../app/container.js';
import type { StoredRule } from '../../storage/rule-repository.js';

const admin = { config: { access: 'admin' as const } };

/**
 * Stored rules (docs/rules.md): `POST /api/v1/rules` stores a new version (admin key, like other
 * definition writes); any key may list them, read one with its versions, and evaluate a rule (stored or
 * inline) against data with the explanation. Errors go through the one error mapper (400, 404).
 */
export function registerRules(app: FastifyInstance, container: AppContainer): void {
  const rules = container.rules;
  app.post('/api/v1/rules', admin, async (request, reply) => {
    const stored = await rules.create(request.body);
    reply.code(201);
    return ruleJson(stored);
  });
  app.get('/api/v1/rules', async () => ({ data: (await rules.list()).map(ruleJson) }));
  app.post('/api/v1/rules/evaluate', async (request) => {
    const result = await rules.evaluate(request.body);
    return { ref: result.ref, passed: result.verdict.passed, verdict: result.verdict, explanation: result.explanation };
  });
  app.get<{ Params: { name: string } }>('/api/v1/rules/:name', async (request) => {
    const { latest, versions } = await rules.get(request.params.name);
    return { ...ruleJson(latest), versions: versions.map(ruleJson) };
  });
}

export function ruleJson(stored: StoredRule) {
  return {
    name: stored.name,
    version: stored.version,
    ref: `${stored.name}@${stored.version}`,
    rule: stored.rule,
    description: stored.description,
    created_at: new Date(stored.createdAt).toISOString(),
  };
}
