import type { ChatChoice, ChatResponse, ToolCall } from '../../core/chat.js';
import { newCompletionId, newToolCallId } from '../../core/ids.js';
import { toOpenAIUsage } from '../../core/usage.js';
import type { Usage } from '../../core/usage.js';
import { isRecord } from '../shared/json.js';
import { malformedUpstream } from '../shared/upstream-error.js';
import { mapGeminiFinishReason } from './map-finish-reason.js';

/** Gemini `usageMetadata` → usage; thinking tokens are completion tokens, as OpenAI counts reasoning. */
export function geminiUsage(metadata: unknown): Usage | undefined {
  if (!isRecord(metadata)) return undefined;
  const number = (key: string): number => (typeof metadata[key] === 'number' ? (metadata[key] as number) : 0);
  const thoughts = number('thoughtsTokenCount');
  const usage: Usage = { promptTokens: number('promptTokenCount'), completionTokens: number('candidatesTokenCount') + thoughts };
  if (number('cachedContentTokenCount') > 0) usage.cachedTokens = number('cachedContentTokenCount');
  if (thoughts > 0) usage.reasoningTokens = thoughts;
  return usage;
}

/** The text and function calls of a candidate's parts (thought parts skipped). */
export function candidateParts(candidate: Record<string, unknown>): {
  text: string;
  calls: { id: string; name: string; arguments: string }[];
} {
  const content = isRecord(candidate['content']) ? candidate['content'] : {};
  const parts = Array.isArray(content['parts']) ? content['parts'] : [];
  let text = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  for (const part of parts) {
    if (!isRecord(part) || part['thought'] === true) continue;
    if (typeof part['text'] === 'string') text += part['text'];
    const call = part['functionCall'];
    if (isRecord(call) && typeof call['name'] === 'string') {
      calls.push({
        id: typeof call['id'] === 'string' ? call['id'] : newToolCallId(),
        name: call['name'],
        arguments: JSON.stringify(call['args'] ?? {}),
      });
    }
  }
  return { text, calls };
}

/** A Gemini `GenerateContentResponse` → OpenAI `chat.completion`. */
export function fromGeminiResponse(
  provider: string,
  body: unknown,
  requestedModel: string,
): { response: ChatResponse; usage: Usage | undefined } {
  if (!isRecord(body)) throw malformedUpstream(provider, 'the answer is not a JSON object');
  const candidates = Array.isArray(body['candidates']) ? body['candidates'] : [];
  const choices: ChatChoice[] = candidates.filter(isRecord).map((candidate, position) => {
    const { text, calls } = candidateParts(candidate);
    const toolCalls: ToolCall[] = calls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    return {
      index: typeof candidate['index'] === 'number' ? candidate['index'] : position,
      message: {
        role: 'assistant',
        content: text === '' && toolCalls.length > 0 ? null : text,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      finish_reason: mapGeminiFinishReason(candidate['finishReason'] as string | undefined, toolCalls.length > 0),
      logprobs: null,
    };
  });
  if (choices.length === 0) {
    const feedback = isRecord(body['promptFeedback']) ? body['promptFeedback'] : {};
    if (typeof feedback['blockReason'] !== 'string') throw malformedUpstream(provider, 'the answer has no candidates');
    choices.push({ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'content_filter', logprobs: null });
  }
  const usage = geminiUsage(body['usageMetadata']);
  return {
    usage,
    response: {
      id: typeof body['responseId'] === 'string' ? `chatcmpl-${body['responseId']}` : newCompletionId(),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: typeof body['modelVersion'] === 'string' ? body['modelVersion'] : requestedModel,
      choices,
      ...(usage ? { usage: toOpenAIUsage(usage) } : {}),
    },
  };
}
