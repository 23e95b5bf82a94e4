import { z } from 'zod';

/**
 * Validation of `POST /v1/messages` (Anthropic Messages API) bodies: Anthropic's rules for the fields the
 * gateway maps, so a malformed body is a 400 naming the field and never reaches a provider. Block types
 * the gateway cannot map pass this schema as `{type}` and are dropped or refused by the converter.
 * Unknown top-level fields are kept here; the converter drops them with a warning.
 */

const cacheControl = z.looseObject({ type: z.literal('ephemeral'), ttl: z.string().optional() }).nullish();

export const textBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string(), cache_control: cacheControl });
export type TextBlockParam = z.infer<typeof textBlockSchema>;

const imageSource = z.discriminatedUnion(
  'type',
  [
    z.looseObject({
      type: z.literal('base64'),
      media_type: z.enum(['image/jpeg', 'image/png', 'image/gif', 'image/webp']),
      data: z.string().min(1, 'the base64 image data is required'),
    }),
    z.looseObject({ type: z.literal('url'), url: z.string().regex(/^https?:\/\//, 'an http(s) URL') }),
    z.looseObject({ type: z.literal('file'), file_id: z.string().min(1) }),
  ],
  { error: 'an image source is {type: "base64", media_type, data} or {type: "url", url}' },
);
const imageBlock = z.looseObject({ type: z.literal('image'), source: imageSource, cache_control: cacheControl });

/**
 * A content block, checked against the schema of its `type` when the gateway knows it. Any other type
 * (`document`, `thinking`, server tool blocks…) passes as `{type}`: the converter drops or refuses it by
 * role, naming it. (A union with a catch-all branch would hide the known branch's precise issue.)
 */
function blockOf<Known extends Record<string, z.ZodType>>(known: Known): z.ZodType<z.infer<Known[keyof Known]> | OtherBlock> {
  return z.looseObject({ type: z.string({ error: 'a content block needs a `type`' }).min(1) }).superRefine((value, context) => {
    const result = known[value.type]?.safeParse(value);
    if (result && !result.success)
      for (const issue of result.error.issues) context.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  });
}

const toolResultContent = z.union([z.string(), z.array(blockOf({ text: textBlockSchema, image: imageBlock }))], {
  error: 'expected a string or an array of text and image blocks',
});

const block = blockOf({
  text: textBlockSchema,
  image: imageBlock,
  tool_use: z.looseObject({
    type: z.literal('tool_use'),
    id: z.string().min(1, 'the id of the tool use is required'),
    name: z.string().min(1),
    input: z.record(z.string(), z.unknown(), { error: 'the tool input must be an object' }),
    cache_control: cacheControl,
  }),
  tool_result: z.looseObject({
    type: z.literal('tool_result'),
    tool_use_id: z.string().min(1, 'the id of the tool use this answers is required'),
    content: toolResultContent.optional(),
    is_error: z.boolean().optional(),
    cache_control: cacheControl,
  }),
});
export type AnthropicBlock = z.infer<typeof block>;
/** A block of a type the schema does not check (the converter decides). */
export interface OtherBlock {
  type: string;
  [field: string]: unknown;
}

const content = z.union([z.string(), z.array(block).min(1, 'at least one content block is required')], {
  error: 'expected a string or an array of content blocks',
});
const systemContent = z.union([z.string(), z.array(textBlockSchema)], { error: 'expected a string or an array of text blocks' });

const message = z.discriminatedUnion(
  'role',
  [
    z.looseObject({ role: z.literal('user'), content }),
    z.looseObject({ role: z.literal('assistant'), content }),
    z.looseObject({ role: z.literal('system'), content: systemContent }),
  ],
  { error: 'each message needs a `role` ("user" or "assistant") and `content`' },
);

const tool = z.looseObject({
  name: z.string().min(1, 'a tool needs a name'),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
  type: z.string().nullish(),
  strict: z.boolean().optional(),
  cache_control: cacheControl,
});

const toolChoice = z.discriminatedUnion(
  'type',
  [
    z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
    z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
    z.looseObject({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
    z.looseObject({ type: z.literal('none') }),
  ],
  { error: 'expected {type: "auto" | "any" | "tool" | "none"}' },
);

/** The fields `count_tokens` shares with `messages` (it has no `max_tokens`). */
const common = {
  model: z
    .string({ error: '`model` is required: a model name such as claude-sonnet-4-5, provider/model, or an alias' })
    .min(1, '`model` must not be empty'),
  messages: z.array(message, { error: '`messages` is required: an array of {role, content}' }).min(1, 'at least one message is required'),
  system: systemContent.optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
};

export const countTokensRequestSchema = z.looseObject(common);

export const messagesRequestSchema = z.looseObject({
  ...common,
  max_tokens: z.number({ error: '`max_tokens` is required: the most tokens the answer may have' }).int('an integer').min(1, 'at least 1'),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.strictObject({ user_id: z.string().nullish() }, { error: '`metadata` only takes `user_id`' }).optional(),
  stream: z.boolean().optional(),
});

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;
export type AnthropicMessageParam = z.infer<typeof message>;
