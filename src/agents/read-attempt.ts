import type { Usage } from '../core/usage.js';
import type { AgentOutput } from '../storage/agent-repository.js';
import { AgentError, AgentErrorCode } from './agent-error.js';
import type { AgentModelCall, AgentModelPort, ServedBy } from './agent-model-port.js';

export interface AttemptResult {
  output: AgentOutput;
  usage: Usage | undefined;
  served: ServedBy;
}

export interface AttemptOptions {
  models: AgentModelPort;
  call: AgentModelCall;
  /** The attempt is aborted after this many ms and fails with a retryable `agent_timeout`. */
  timeoutMs: number;
  onContent(delta: string): void;
  onToolCall(call: { id: string; name: string; arguments: string }): void;
}

/**
 * One model call of an agent, read to its end: content deltas are handed to `onContent` as they
 * arrive, tool calls to `onToolCall` once complete (at the stream's end), and the answer is assembled
 * (choice 0). A failure carries what served the attempt (`error.served`) so its tokens are still counted.
 */
export async function readAttempt(options: AttemptOptions): Promise<AttemptResult> {
  const controller = new AbortController();
  const outer = options.call.signal;
  const abortFromOuter = (): void => controller.abort(outer.reason);
  if (outer.aborted) controller.abort(outer.reason);
  else outer.addEventListener('abort', abortFromOuter, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(
      new AgentError(AgentErrorCode.timeout, `the model did not answer within ${options.timeoutMs} ms`, { isRetryable: true }),
    );
  }, options.timeoutMs);
  let served: ServedBy = { provider: undefined, model: undefined, costUsd: undefined };
  let opened: Awaited<ReturnType<AgentModelPort['stream']>> | undefined;
  try {
    opened = await options.models.stream({ ...options.call, signal: controller.signal });
    let text = '';
    let finishReason: string | null = null;
    let usage: Usage | undefined;
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    for await (const part of opened.parts) {
      if (controller.signal.aborted) break;
      switch (part.type) {
        case 'text-delta':
          if (part.choice !== 0 || part.text === '') break;
          text += part.text;
          options.onContent(part.text);
          break;
        case 'tool-call-start':
          if (part.choice === 0) calls.set(part.index, { id: part.id, name: part.name, arguments: '' });
          break;
        case 'tool-call-delta': {
          const call = part.choice === 0 ? calls.get(part.index) : undefined;
          if (call) call.arguments += part.argumentsDelta;
          break;
        }
        case 'finish':
          if (part.choice === 0) finishReason = part.reason;
          break;
        case 'usage':
          usage = part.usage;
          break;
        case 'response-meta':
        case 'raw-chunks':
          break;
      }
    }
    if (controller.signal.aborted) throw controller.signal.reason;
    served = opened.served();
    const toolCalls = [...calls.values()];
    for (const call of toolCalls) options.onToolCall(call);
    return { output: { text, toolCalls, finishReason }, usage, served };
  } catch (error) {
    if (opened) served = opened.served();
    const failure =
      timedOut && !(error instanceof AgentError)
        ? new AgentError(AgentErrorCode.timeout, `the model did not answer within ${options.timeoutMs} ms`, {
            isRetryable: true,
            cause: error,
          })
        : error;
    if (failure !== null && typeof failure === 'object') Object.assign(failure, { served });
    throw failure;
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', abortFromOuter);
  }
}
