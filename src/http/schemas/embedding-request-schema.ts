import { z } from 'zod';

export const embeddingRequestSchema = z.looseObject({
  model: z.string({ error: '`model` is required: an embedding model such as text-embedding-3-small' }).min(1),
  input: z.union(
    [
      z.string().min(1, '`input` must not be empty'),
      z.array(z.string()).min(1, '`input` must not be empty').max(2048),
      z.array(z.number().int()).min(1),
      z.array(z.array(z.number().int()).min(1)).min(1).max(2048),
    ],
    { error: '`input` is required: a string, an array of strings, or token arrays' },
  ),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});
