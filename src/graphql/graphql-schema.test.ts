import { readFileSync } from 'node:fs';
import type { GraphQLEnumType } from 'graphql';
import { buildSchema, GraphQLObjectType, parse, printSchema, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CompletionEventType } from '../app/completion-streams.js';
import type { CostUpdateEvent } from '../app/gateway-events.js';
import { breakdownNames } from '../app/usage-reports.js';
import { routingStrategies } from '../config/config-schema.js';
import { InstanceStatus } from '../engine/workflow-instance.js';
import { CircuitState } from '../routing/circuit-breaker.js';
import { ExecutionStatus } from '../storage/function-repository.js';
import type { BudgetAction, BudgetPeriod, BudgetScopeType } from '../storage/budget-repository.js';
import { buildGraphQLSchema, loadSdl, resolvers } from './graphql-schema.js';

/**
 * The checked-in SDL and the code cannot drift: the executable schema is built from the SDL file with
 * the resolvers (a resolver for a field the SDL lacks fails the build), every root field has a resolver,
 * every enum the resolvers produce by upper-casing a value list of the code has exactly those values,
 * and every GraphQL example in docs/graphql.md validates against the schema. CI runs this with the unit tests.
 */
const sdl = loadSdl();
const schema = buildGraphQLSchema();

describe('the SDL and the executable schema', () => {
  it('build into the same schema', () => {
    expect(printSchema(schema)).toBe(printSchema(buildSchema(sdl)));
  });

  it('has a resolver for every query, mutation and subscription field, and none for a field the SDL lacks', () => {
    for (const root of ['Query', 'Mutation', 'Subscription'] as const) {
      const type = schema.getType(root) as GraphQLObjectType;
      expect(Object.keys(resolvers[root]).sort(), root).toEqual(Object.keys(type.getFields()).sort());
    }
    // A resolver whose field left the SDL does not build.
    expect(() => buildGraphQLSchema(sdl.replace(/^.*\n\s*evaluateRule\(input: EvaluateRuleInput!\): RuleEvaluation!$/m, ''))).toThrow(
      /evaluateRule/,
    );
  });

  it.each([
    ['CompletionEventType', Object.values(CompletionEventType)],
    ['InstanceStatus', Object.values(InstanceStatus)],
    ['CircuitState', Object.values(CircuitState)],
    ['RoutingStrategy', routingStrategies],
    ['CostBreakdown', breakdownNames],
    ['FunctionExecutionStatus', Object.values(ExecutionStatus)],
    ['Granularity', ['minute', 'hour', 'day']],
    [
      'BudgetScopeType',
      Object.keys({ global: 1, model: 1, provider: 1, key: 1, user: 1, team: 1, project: 1 } satisfies Record<BudgetScopeType, 1>),
    ],
    ['BudgetPeriod', Object.keys({ daily: 1, monthly: 1 } satisfies Record<BudgetPeriod, 1>)],
    [
      'BudgetAction',
      Object.keys({ send_notification: 1, switch_to_cheaper_models: 1, pause_expensive_operations: 1 } satisfies Record<BudgetAction, 1>),
    ],
    [
      'CostUpdateType',
      Object.keys({ COST_INCURRED: 1, BUDGET_WARNING: 1, BUDGET_EXHAUSTED: 1 } satisfies Record<CostUpdateEvent['type'], 1>),
    ],
  ])('enum %s has exactly the values of the code', (name, values) => {
    const type = schema.getType(name) as GraphQLEnumType;
    expect(
      type
        .getValues()
        .map((value) => value.name)
        .sort(),
    ).toEqual(values.map((value) => value.toUpperCase()).sort());
  });

  it('gives every list field first/after pagination', () => {
    let connections = 0;
    for (const type of Object.values(schema.getTypeMap())) {
      if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (!field.type.toString().endsWith('Connection!')) continue;
        expect(
          field.args.map((arg) => arg.name),
          `${type.name}.${field.name}`,
        ).toEqual(expect.arrayContaining(['first', 'after']));
        connections++;
      }
    }
    expect(connections).toBe(12);
  });
});

describe('docs/graphql.md', () => {
  it('has examples that all validate against the schema', () => {
    const page = readFileSync(new URL('../../docs/graphql.md', import.meta.url), 'utf8');
    const examples = [...page.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1] as string);
    expect(examples.length).toBeGreaterThan(3);
    for (const example of examples)
      expect(
        validate(schema, parse(example)).map((error) => error.message),
        example,
      ).toEqual([]);
  });
});
