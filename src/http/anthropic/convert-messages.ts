import type { AssistantMessage, ChatMessage, ContentPart, ImagePart, TextPart, ToolCall, ToolMessage } from '../../core/chat.js';
import { ErrorCode, invalidRequest } from '../../core/errors.js';
import type { AnthropicBlock, AnthropicMessageParam, TextBlockParam as Text } from '../schemas/messages-request-schema.js';

/** Said in place of a tool result that was only images: the images follow in a user message (tool messages carry text only). */
export const imageResultNote = '[the result is the image(s) in the next message]';

/**
 * Anthropic `system` + `messages` → OpenAI-shaped messages, the reverse of the outbound Anthropic codec:
 * `system` becomes the first system message; a user turn's `tool_result` blocks become `tool` messages
 * (first, as OpenAI wants them right after the assistant's calls) and its other blocks one user message
 * after them; an assistant turn's `tool_use` blocks become `tool_calls`. Thinking blocks are dropped
 * with a warning; blocks the gateway cannot express (documents, server tools, files) are refused with a
 * 400 naming them. Prompt-cache markers stay on text parts, where the Anthropic codec passes them on.
 */
export function convertMessages(system: string | Text[] | undefined, messages: readonly AnthropicMessageParam[], warnings: string[]) {
  const converted: ChatMessage[] = [];
  if (system !== undefined && (typeof system === 'string' ? system !== '' : system.length > 0))
    converted.push({ role: 'system', content: typeof system === 'string' ? system : system.map(textPart) });
  messages.forEach((message, index) => {
    const at = `messages[${index}]`;
    if (message.role === 'system') converted.push({ role: 'system', content: systemText(message.content) });
    else if (typeof message.content === 'string') converted.push({ role: message.role, content: message.content });
    else if (message.role === 'user') converted.push(...userTurn(message.content, at, warnings));
    else converted.push(assistantTurn(message.content, at, warnings));
  });
  return converted;
}

function userTurn(blocks: readonly AnthropicBlock[], at: string, warnings: string[]): ChatMessage[] {
  const tools: ToolMessage[] = [];
  const resultImages: ImagePart[] = [];
  const parts: ContentPart[] = [];
  blocks.forEach((block, position) => {
    const path = `${at}.content[${position}]`;
    if (block.type === 'text') parts.push(textPart(block as Text));
    else if (block.type === 'image') parts.push(imagePart(block, path, warnings));
    else if (block.type === 'tool_result') tools.push(toolResult(block, path, resultImages, warnings));
    else throw unsupportedBlock(block.type, 'user', path);
  });
  const following: ContentPart[] = [...resultImages, ...parts];
  return following.length > 0 ? [...tools, { role: 'user', content: following }] : tools;
}

function assistantTurn(blocks: readonly AnthropicBlock[], at: string, warnings: string[]): AssistantMessage {
  const text: TextPart[] = [];
  const calls: ToolCall[] = [];
  blocks.forEach((block, position) => {
    const path = `${at}.content[${position}]`;
    if (block.type === 'text') text.push(textPart(block as Text));
    else if (block.type === 'tool_use') {
      const use = block as { id: string; name: string; input: Record<string, unknown> };
      calls.push({ id: use.id, type: 'function', function: { name: use.name, arguments: JSON.stringify(use.input) } });
    } else if (block.type === 'thinking' || block.type === 'redacted_thinking')
      warnings.push(`${path}: ${block.type} blocks are not carried over (the backends take no thinking history) and were dropped`);
    else throw unsupportedBlock(block.type, 'assistant', path);
  });
  const message: AssistantMessage = { role: 'assistant', content: text.length > 0 ? text : calls.length > 0 ? null : '' };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

function toolResult(block: AnthropicBlock, path: string, images: ImagePart[], warnings: string[]): ToolMessage {
  const result = block as { tool_use_id: string; content?: string | AnthropicBlock[]; is_error?: boolean; cache_control?: unknown };
  if (result.cache_control)
    warnings.push(`${path}: cache_control on a tool_result cannot be carried over (tool messages take no cache marker) and was dropped`);
  let text = '';
  let imageCount = 0;
  if (typeof result.content === 'string') text = result.content;
  else
    (result.content ?? []).forEach((inner, position) => {
      if (inner.type === 'text') text += (text ? '\n' : '') + (inner as Text).text;
      else if (inner.type === 'image') {
        images.push(imagePart(inner, `${path}.content[${position}]`, warnings));
        imageCount++;
      } else throw unsupportedBlock(inner.type, 'tool_result', `${path}.content[${position}]`);
    });
  if (text === '' && imageCount > 0) text = imageResultNote;
  // Tool messages have no error flag: the flag is said in the text, so every backend's model still sees it.
  return { role: 'tool', tool_call_id: result.tool_use_id, content: result.is_error ? `Error: ${text}` : text };
}

function textPart(block: Text): TextPart {
  return block.cache_control ? { type: 'text', text: block.text, cache_control: block.cache_control } : { type: 'text', text: block.text };
}

function imagePart(block: AnthropicBlock, path: string, warnings: string[]): ImagePart {
  const { source, cache_control } = block as {
    source: { type: string; media_type?: string; data?: string; url?: string };
    cache_control?: unknown;
  };
  if (cache_control) warnings.push(`${path}: cache_control on an image cannot be carried over and was dropped`);
  if (source.type === 'base64') return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  if (source.type === 'url') return { type: 'image_url', image_url: { url: String(source.url) } };
  throw invalidRequest(
    'Images from the Files API (`source.type: "file"`) cannot be sent through this gateway; send the image as base64 or a URL.',
    `${path}.source.type`,
    ErrorCode.unsupportedParameter,
  );
}

function systemText(content: string | Text[]): string | TextPart[] {
  return typeof content === 'string' ? content : content.map(textPart);
}

function unsupportedBlock(type: string, where: string, path: string) {
  return invalidRequest(
    `Content blocks of type '${type}' cannot be sent through this gateway in a ${where} turn; it maps text, image, tool_use and tool_result blocks to every provider.`,
    `${path}.type`,
    ErrorCode.unsupportedParameter,
  );
}
