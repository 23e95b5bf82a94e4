import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError, invalidRequest } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { filterVariables } from '../engine/compiled-workflow.js';
import { compileRule, evaluateRule, formatExplanation, parseRuleRef, RuleRegistry } from '../rules/index.js';
import type { RuleSource, RuleVerdict } from '../rules/index.js';
import type { RuleRepository, StoredRule } from '../storage/rule-repository.js';
import type { BusSubscription, EventBus } from '../streaming/event-bus.js';

/** Stored rules declare the names a guard or an event filter reads (docs/rules.md, "Stored rules"). */
export const storedRuleVariables: readonly string[] = filterVariables;

/** The bus topic a saved rule is announced on, so every replica reloads its registry. */
export const rulesChangedTopic = 'rules.changed';

const ruleBody = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

const createSchema = z.strictObject({
  name: z.string().min(1),
  rule: ruleBody,
  description: z.string().max(2000).optional(),
});

const evaluateSchema = z
  .strictObject({
    /** Rule source to evaluate on the spot (its variables are the keys of `data`). */
    rule: ruleBody.optional(),
    /** A stored rule: `name` or `name@version`; `ruleId` is the seed's spelling. */
    name: z.string().min(1).optional(),
    ruleId: z.string().min(1).optional(),
    version: z.number().int().positive().optional(),
    data: z.record(z.string(), z.unknown()),
  })
  .refine((body) => [body.rule, body.name, body.ruleId].filter((value) => value !== undefined).length === 1, {
    message: 'give exactly one of `rule` (rule source), `name` or `ruleId` (a stored rule)',
  });

/** A rule's verdict as `POST /api/v1/rules/evaluate` answers it. */
export interface RuleEvaluation {
  /** `name@version` of the stored rule evaluated, or null for inline source. */
  ref: string | null;
  verdict: RuleVerdict;
  /** The explanation as indented text (one line per sub-condition, with the values seen). */
  explanation: string;
}

/**
 * Named, versioned rules as a use case: stored through the rule repository (versions immutable), loaded
 * into one `RuleRegistry` at start and after every change (also another replica's, announced on the
 * bus), which the workflow engine resolves `{ ref }` guards through. Evaluation works without a workflow.
 */
export class RuleService {
  /** The registry the workflow catalog checks and evaluates references with. */
  readonly registry = new RuleRegistry();
  private subscription: BusSubscription | undefined;
  private loading: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { repository: RuleRepository; events: EventBus; clock: Clock; logger: Logger }) {}

  /** Loads every stored version and listens for changes made through other replicas. */
  async start(): Promise<void> {
    await this.reload();
    this.subscription = this.deps.events.subscribe(rulesChangedTopic, () => void this.reload());
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** Checks and stores `input` as the next version of its name; 400 with every issue when it does not compile. */
  async create(input: unknown): Promise<StoredRule> {
    const parsed = createSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalidRequest(`Invalid rule: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`, issue?.path.join('.'));
    }
    const { name, rule, description } = parsed.data;
    if (parseRuleRef(name)?.version !== undefined || parseRuleRef(name) === undefined)
      throw invalidRequest(`'${name}' is not a valid rule name: use letters, digits and _ - . / (up to 128 characters, no '@')`, 'name');
    const compiled = compileRule(rule, { variables: storedRuleVariables });
    if (!compiled.ok)
      throw invalidRequest(
        `The rule does not compile (it may read ${storedRuleVariables.join(', ')}):\n- ${compiled.issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('\n- ')}`,
        'rule',
      );
    const stored = await this.deps.repository.addVersion({
      name,
      rule,
      description: description ?? null,
      createdAt: this.deps.clock.now(),
    });
    await this.reload();
    this.deps.events
      .publish(rulesChangedTopic, { name, version: stored.version })
      .catch((error: unknown) => this.deps.logger.warn('rules: change not announced to other replicas', { error: String(error) }));
    return stored;
  }

  /** The latest version of each rule, by name. */
  async list(): Promise<StoredRule[]> {
    const latest = new Map<string, StoredRule>();
    for (const rule of await this.deps.repository.listAll()) latest.set(rule.name, rule);
    return [...latest.values()];
  }

  /** The latest version and every version of `name`; 404 when there is none. */
  async get(name: string): Promise<{ latest: StoredRule; versions: StoredRule[] }> {
    const versions = await this.deps.repository.versions(name);
    const latest = versions.at(-1);
    if (!latest) throw notFound(`There is no rule '${name}'${suggestion(name, this.registry)}; GET /api/v1/rules lists them.`);
    return { latest, versions };
  }

  /** Evaluates inline source or a stored rule against `data`, with the explanation. 404 for an unknown stored rule. */
  async evaluate(input: unknown): Promise<RuleEvaluation> {
    const parsed = evaluateSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalidRequest(
        `Invalid evaluation: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
        issue?.path.join('.'),
      );
    }
    const body = parsed.data;
    if (body.rule !== undefined)
      return explained(null, evaluateRule(body.rule as RuleSource, body.data, { explain: true, registry: this.registry }));
    const name = (body.name ?? body.ruleId)!;
    const ref = body.version === undefined || name.includes('@') ? name : `${name}@${body.version}`;
    let entry = this.registry.get(ref);
    if (entry === undefined) {
      await this.reload(); // stored through another replica whose announcement has not arrived yet
      entry = this.registry.get(ref);
    }
    if (entry === undefined) throw notFound(`${this.registry.describeMissing(ref)}; GET /api/v1/rules lists the stored rules.`);
    return explained(entry.ref, entry.rule.explain(body.data));
  }

  /** Adds to the registry every stored version it does not have yet (versions never change, so nothing is replaced). */
  reload(): Promise<void> {
    this.loading = this.loading.then(async () => {
      try {
        for (const stored of await this.deps.repository.listAll()) {
          if (this.registry.versions(stored.name).length >= stored.version) continue;
          const registered = this.registry.register(stored.name, stored.rule as RuleSource, {
            variables: storedRuleVariables,
            ...(stored.description === null ? {} : { description: stored.description }),
          });
          if (!registered.ok || registered.entry.version !== stored.version)
            this.deps.logger.warn('rules: a stored rule could not be loaded; later versions of it are skipped', {
              rule: `${stored.name}@${stored.version}`,
            });
        }
      } catch (error) {
        this.deps.logger.error('rules: cannot read the stored rules', { error: String(error) });
      }
    });
    return this.loading;
  }
}

function explained(ref: string | null, verdict: RuleVerdict): RuleEvaluation {
  const explanation = verdict.explanation
    ? formatExplanation(verdict.explanation)
    : verdict.error
      ? `! ${verdict.error.code}: ${verdict.error.message}`
      : verdict.passed
        ? '✓ passed'
        : '✗ failed';
  return { ref, verdict, explanation };
}

function suggestion(name: string, registry: RuleRegistry): string {
  const message = registry.describeMissing(name);
  const index = message.indexOf('; did you mean');
  return index === -1 ? '' : message.slice(index);
}

function notFound(message: string): GatewayError {
  return new GatewayError(ErrorCode.notFound, message, { status: 404 });
}
