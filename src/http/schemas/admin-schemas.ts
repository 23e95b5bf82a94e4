import { z } from 'zod';

const idPattern = /^[\w.:@-]{1,128}$/;
const label = z.string().regex(idPattern, 'letters, digits and _ . : @ - (at most 128)');

/** `POST /api/v1/keys`. */
export const createKeySchema = z.strictObject({
  name: z.string().min(1).max(100),
  owner: z.strictObject({ user: label.optional(), team: label.optional(), project: label.optional() }).optional(),
  scopes: z
    .strictObject({
      models: z.array(z.string().min(1).max(200)).max(100).optional(),
      rpm: z.number().int().positive().optional(),
      tpm: z.number().int().positive().optional(),
      concurrency: z.number().int().positive().optional(),
      budget: z.strictObject({ limit_usd: z.number().nonnegative(), period: z.enum(['daily', 'monthly']).optional() }).optional(),
    })
    .optional(),
  /** ISO date, or use expires_in_days. */
  expires_at: z.iso.datetime({ offset: true }).optional(),
  expires_in_days: z.number().positive().max(3650).optional(),
});
export type CreateKeyInput = z.infer<typeof createKeySchema>;

/** `POST /api/v1/providers/{name}/keys`. */
export const addProviderKeySchema = z.strictObject({
  key: z.string().min(8).max(4096),
  label: z.string().max(100).optional(),
});

/** `POST /api/v1/budgets`. */
export const createBudgetSchema = z.strictObject({
  name: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, _, . and - (at most 64)'),
  scope: z
    .strictObject({
      type: z.enum(['global', 'model', 'provider', 'key', 'user', 'team', 'project']),
      value: z.string().min(1).max(200).optional(),
    })
    .refine(
      (scope) => (scope.type === 'global') === (scope.value === undefined),
      'a global budget has no value; every other scope needs one',
    )
    .optional(),
  period: z.enum(['daily', 'monthly']).optional(),
  limit_usd: z.number().nonnegative(),
  alerts: z
    .array(
      z.strictObject({
        threshold: z.number().min(0).max(1),
        action: z.enum(['send_notification', 'switch_to_cheaper_models', 'pause_expensive_operations']),
      }),
    )
    .max(10)
    .optional(),
});
