import { z } from 'zod';

/**
 * Validation of `POST /v1/chat/completions` bodies: OpenAI's rules where it has them, permissive where
 * providers differ (unknown top-level fields are kept and forwarded to OpenAI-dialect upstreams).
 * Every failure becomes a 400 naming the field (`messages[1].content`).
 */

const text = z.string();
const textPart = z.looseObject({ type: z.literal('text'), text });
const imagePart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({
    url: z.string().min(1, 'an image URL or data: URL is required'),
    detail: z.enum(['auto', 'low', 'high']).optional(),
  }),
});
const otherPart = z.looseObject({ type: z.string().min(1) }).refine((part) => part.type !== 'text' && part.type !== 'image_url');
const contentPart = z.union([textPart, imagePart, otherPart], {
  error: 'a content part needs `type` ("text" with `text`, or "image_url" with `image_url.url`)',
});
const textContent = z.union([text, z.array(textPart)], { error: 'expected a string or an array of text parts' });

const toolCall = z.looseObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});

const message = z.discriminatedUnion(
  'role',
  [
    z.looseObject({ role: z.enum(['system', 'developer']), content: textContent, name: z.string().optional() }),
    z.looseObject({
      role: z.literal('user'),
      content: z.union([text, z.array(contentPart)], { error: 'expected a string or an array of content parts' }),
      name: z.string().optional(),
    }),
    z
      .looseObject({
        role: z.literal('assistant'),
        content: textContent.nullish(),
        tool_calls: z.array(toolCall).optional(),
        function_call: z.looseObject({ name: z.string(), arguments: z.string() }).nullish(),
        name: z.string().optional(),
      })
      .refine((entry) => entry.content != null || (entry.tool_calls?.length ?? 0) > 0 || entry.function_call != null, {
        message: 'an assistant message needs `content` or `tool_calls`',
      }),
    z.looseObject({
      role: z.literal('tool'),
      content: textContent,
      tool_call_id: z.string().min(1, 'the id of the tool call this answers'),
    }),
    z.looseObject({ role: z.literal('function'), content: z.string().nullable(), name: z.string().min(1) }),
  ],
  { error: 'each message needs a `role`: system, developer, user, assistant, tool or function' },
);

const functionName = z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'a function name is 1–64 letters, digits, _ . or -');
const jsonSchema = z.record(z.string(), z.unknown());

const tool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: functionName,
    description: z.string().optional(),
    parameters: jsonSchema.optional(),
    strict: z.boolean().nullish(),
  }),
});

const nullableNumber = (min: number, max: number) => z.number().min(min).max(max).nullish();
const positiveInt = z.number().int().positive().nullish();

export const chatRequestSchema = z.looseObject({
  model: z
    .string({ error: '`model` is required: a model name such as gpt-4o, provider/model, or an alias' })
    .min(1, '`model` must not be empty'),
  messages: z
    .array(message, { error: '`messages` is required: an array of {role, content} objects' })
    .min(1, '`messages` must contain at least one message'),
  tools: z.array(tool).optional(),
  tool_choice: z
    .union(
      [z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) })],
      {
        error: 'expected "none", "auto", "required" or {type: "function", function: {name}}',
      },
    )
    .optional(),
  parallel_tool_calls: z.boolean().optional(),
  functions: z
    .array(z.looseObject({ name: functionName, description: z.string().optional(), parameters: jsonSchema.optional() }))
    .optional(),
  function_call: z.union([z.enum(['none', 'auto']), z.looseObject({ name: z.string() })]).optional(),
  response_format: z
    .discriminatedUnion(
      'type',
      [
        z.looseObject({ type: z.literal('text') }),
        z.looseObject({ type: z.literal('json_object') }),
        z.looseObject({
          type: z.literal('json_schema'),
          json_schema: z.looseObject({
            name: z.string().min(1),
            description: z.string().optional(),
            schema: jsonSchema.optional(),
            strict: z.boolean().nullish(),
          }),
        }),
      ],
      { error: 'expected {type: "text" | "json_object" | "json_schema"}' },
    )
    .optional(),
  temperature: nullableNumber(0, 2),
  top_p: nullableNumber(0, 1),
  max_tokens: positiveInt,
  max_completion_tokens: positiveInt,
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  seed: z.number().int().nullish(),
  user: z.string().optional(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  presence_penalty: nullableNumber(-2, 2),
  frequency_penalty: nullableNumber(-2, 2),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});

/** Fields of the request that steer the gateway itself and never go upstream (OpenRouter's and the seed's). */
export const gatewayFields = ['models', 'provider', 'route', 'transforms', 'circuit_breaker', 'plugins', 'usage'] as const;
