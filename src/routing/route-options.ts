import { z } from 'zod';
import { routingStrategies } from '../config/config-schema.js';

/**
 * The request fields that steer routing and never go upstream: OpenRouter's `models` and `provider`,
 * and the seed's `circuit_breaker` extension. Validated at the edge like the rest of the body.
 */
export const routeOptionsSchema = z.object({
  models: z.array(z.string().min(1)).max(10).optional(),
  provider: z
    .looseObject({
      order: z.array(z.string()).optional(),
      only: z.array(z.string()).optional(),
      ignore: z.array(z.string()).optional(),
      allow_fallbacks: z.boolean().optional(),
      sort: z.enum(['price', 'throughput', 'latency']).optional(),
      /** USD per million tokens, as OpenRouter takes it. */
      max_price: z.looseObject({ prompt: z.number().nonnegative().optional(), completion: z.number().nonnegative().optional() }).optional(),
      require_parameters: z.boolean().optional(),
    })
    .optional(),
  circuit_breaker: z
    .looseObject({
      routing_strategy: z.enum(routingStrategies).optional(),
      max_cost_per_1k_tokens: z.number().nonnegative().optional(),
      max_latency_ms: z.number().positive().optional(),
      task_type: z.string().optional(),
      fallback_models: z.array(z.string().min(1)).max(10).optional(),
      preferred_providers: z.array(z.string()).optional(),
    })
    .optional(),
});

export type RouteOptions = z.infer<typeof routeOptionsSchema>;
