import type { CostUpdateEvent, ProviderHealthEvent } from '../../app/gateway-events.js';
import { ErrorCode, GatewayError } from '../../core/errors.js';
import { busIterator } from '../../streaming/bus-iterator.js';
import { topics } from '../../streaming/event-bus.js';
import { isAdmin } from '../graphql-context.js';
import type { GraphQLContext } from '../graphql-context.js';

const slowSubscriber = () =>
  new GatewayError(ErrorCode.slowConsumer, 'The subscription fell more than 1000 events behind and was ended; resubscribe.', {
    status: 429,
  });

/** Subscriptions, all fed by the event bus (so they work across replicas when the bus does). */
export const subscriptionResolvers = {
  completionStream: {
    subscribe: (_root: unknown, args: { completionId: string }, context: GraphQLContext) =>
      context.container.completionStreams.subscribe(args.completionId, context.auth.principal),
    resolve: (payload: unknown) => payload,
  },
  costUpdates: {
    subscribe: (_root: unknown, _args: unknown, context: GraphQLContext) => {
      const { principal } = context.auth;
      const admin = isAdmin(principal);
      return busIterator<CostUpdateEvent>(context.container.events, topics.costs, {
        // A gateway key sees its own requests and budgets, and the budgets not tied to any key.
        filter: (event) => admin || event.keyId === principal.keyId || (event.type !== 'COST_INCURRED' && event.keyId === null),
        overflow: slowSubscriber,
      });
    },
    resolve: (payload: unknown) => payload,
  },
  providerHealth: {
    subscribe: (_root: unknown, args: { provider?: string | null }, context: GraphQLContext) =>
      busIterator<ProviderHealthEvent>(context.container.events, topics.providerHealth, {
        filter: (event) => !args.provider || event.provider === args.provider,
        overflow: slowSubscriber,
      }),
    resolve: (payload: unknown) => payload,
  },
};
