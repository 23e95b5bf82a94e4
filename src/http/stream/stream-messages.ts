import { z } from 'zod';

/** A client-chosen request id: short, printable (it comes back on every message of the request). */
const requestId = z.string().regex(/^[\w.:-]{1,128}$/, 'letters, digits, _ . : - (at most 128)');
const token = z.string().regex(/^[\w.:-]{1,200}$/, 'letters, digits, _ . : - (at most 200)');

/**
 * What a client may send on `/stream` (docs/streaming.md). `completion` carries any chat completion
 * field besides `type` and `id`; those are validated by the same schema as `POST /v1/chat/completions`.
 */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('completion'), id: requestId.optional() }),
  z.strictObject({ type: z.literal('cancel'), id: requestId }),
  z
    .strictObject({ type: z.literal('subscribe'), id: requestId.optional(), instanceId: token.optional(), workflowId: token.optional() })
    .refine((message) => message.instanceId !== undefined || message.workflowId !== undefined, 'subscribe needs instanceId or workflowId'),
  z.strictObject({ type: z.literal('unsubscribe'), id: requestId }),
  z.strictObject({ type: z.literal('auth'), key: z.string().min(1).max(500) }),
  z.strictObject({ type: z.literal('ping'), id: requestId.optional() }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** What the server sends. `id` is the request (or subscription) the message belongs to. */
export type ServerMessage =
  | { type: 'authenticated'; principal: string }
  | { type: 'thinking_status'; id: string; status: string }
  | { type: 'content_chunk'; id: string; content: string }
  | { type: 'tool_call'; id: string; tool_call_id: string; tool: string; arguments: unknown }
  | {
      type: 'completed';
      id: string;
      finish_reason: string | null;
      model: string | null;
      provider: string | null;
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; cost_usd: number | null } | null;
    }
  | { type: 'cancelled'; id: string }
  | { type: 'subscribed'; id: string; topic: string }
  | { type: 'unsubscribed'; id: string }
  /** `eventType`: the engine's event type (`WORKFLOW_TRANSITION`, `TOKEN_CREATED`, `COMPLETION`, …), as `workflowStream` names them. */
  | { type: 'workflow_event'; id: string; eventType: string | null; event: unknown }
  | { type: 'error'; id: string | null; error: { code: string; message: string; param?: string } }
  | { type: 'pong'; id?: string };
