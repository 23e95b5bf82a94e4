import { createHash, randomUUID } from 'node:crypto';
import type { ChatMessage, ChatRequest } from '../core/chat.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { EventBus } from '../streaming/event-bus.js';
import type { AgentExecutionRecord, AgentOutput, AgentRepository } from '../storage/agent-repository.js';
import { modelChoiceOf } from './agent-definition.js';
import type { AgentDefinition } from './agent-definition.js';
import { AgentError, AgentErrorCode, failureOf } from './agent-error.js';
import { AgentEventPublisher } from './agent-events.js';
import type { AgentSite } from './agent-events.js';
import type { AgentModelPort } from './agent-model-port.js';
import { readAttempt } from './read-attempt.js';
import type { AttemptResult } from './read-attempt.js';
import { checkOutput } from './output-schema.js';
import { renderTemplate } from './prompt-template.js';
import type { TemplateScope } from './prompt-template.js';

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface AgentRunnerDeps {
  models: AgentModelPort;
  executions: Pick<AgentRepository, 'saveExecution' | 'getExecution'>;
  events?: EventBus;
  clock: Clock;
  logger: Logger;
  /** Waits between attempts (tests pass one that returns at once). */
  sleep?: Sleep;
}

export interface AgentRunRequest {
  agent: AgentDefinition;
  /** What `{placeholders}` read: the token's data and metadata, the instance's variables. */
  scope: TemplateScope;
  /** Where it runs; without one (a test run) nothing is published and the execution has no workflow ids. */
  site?: AgentSite;
  signal?: AbortSignal;
}

export interface AgentRunResult {
  execution: AgentExecutionRecord;
  /** Set when the run completed. */
  output: AgentOutput | undefined;
  /** True when a completed execution of the same firing was found and returned without calling a model. */
  reused: boolean;
  /** For a run that did not complete: whether its last failure may pass on another try (a timeout, a provider down). */
  retryable: boolean;
}

/**
 * Runs one agent for one firing: fills its templates, calls its model through the port (streamed, each
 * delta published as `AGENT_CONTENT` while it arrives), checks structured output, retries by its policy
 * (retryable router errors, timeouts, answers that fail the schema — the problems are sent back to the
 * model), and records the execution before and after. Expected failures (a missing template variable,
 * an exhausted policy) are results with a failed execution, not exceptions. The execution id is derived
 * from the firing, so an action run twice (at-least-once delivery) returns the first run's output
 * instead of calling the model again.
 */
export class AgentRunner {
  private readonly sleep: Sleep;

  constructor(private readonly deps: AgentRunnerDeps) {
    this.sleep = deps.sleep ?? realSleep;
  }

  async run(run: AgentRunRequest): Promise<AgentRunResult> {
    const { agent, site } = run;
    const id = executionIdOf(agent.id, site);
    if (site?.firingId !== undefined) {
      const earlier = await this.deps.executions.getExecution(id);
      if (earlier?.status === 'completed' && earlier.output)
        return { execution: earlier, output: earlier.output, reused: true, retryable: false };
    }
    const startedAt = this.deps.clock.now();
    const execution: AgentExecutionRecord = {
      id,
      agentId: agent.id,
      workflowId: site?.workflowId ?? null,
      instanceId: site?.instanceId ?? null,
      transitionId: site?.transitionId ?? null,
      placeId: site?.placeId ?? null,
      firingId: site?.firingId ?? null,
      status: 'running',
      input: { system: null, user: '', model: agent.model },
      output: null,
      error: null,
      requestedModel: agent.model,
      provider: null,
      model: null,
      promptTokens: 0,
      completionTokens: 0,
      costUsd: null,
      durationMs: 0,
      attempts: 0,
      startedAt,
      finishedAt: null,
    };
    const events = new AgentEventPublisher(
      site ? this.deps.events : undefined,
      site ?? { workflowId: '-', instanceId: '-' },
      this.deps.logger,
    );
    const base = () => ({
      agentId: agent.id,
      executionId: id,
      workflowId: execution.workflowId ?? '',
      instanceId: execution.instanceId ?? '',
      ...(site?.transitionId === undefined ? {} : { transitionId: site.transitionId }),
      ...(site?.placeId === undefined ? {} : { placeId: site.placeId }),
      at: this.deps.clock.now(),
    });
    const finish = async (
      status: AgentExecutionRecord['status'],
      output: AgentOutput | undefined,
      error?: unknown,
    ): Promise<AgentRunResult> => {
      execution.status = status;
      execution.output = output ?? null;
      execution.finishedAt = this.deps.clock.now();
      execution.durationMs = execution.finishedAt - startedAt;
      let retryable = false;
      if (error !== undefined) {
        const failure = failureOf(error);
        retryable = failure.retryable;
        execution.error = { code: failure.code, message: failure.message };
        events.publish({ ...base(), type: 'AGENT_FAILED', code: failure.code, message: failure.message, attempts: execution.attempts });
      } else {
        events.publish({
          ...base(),
          type: 'AGENT_COMPLETED',
          provider: execution.provider,
          model: execution.model,
          promptTokens: execution.promptTokens,
          completionTokens: execution.completionTokens,
          costUsd: execution.costUsd,
          durationMs: execution.durationMs,
        });
      }
      await this.deps.executions.saveExecution(execution);
      await events.flush();
      return { execution, output, reused: false, retryable };
    };

    const system = agent.systemPrompt === undefined ? { text: undefined } : renderTemplate(agent.systemPrompt, run.scope);
    const user = renderTemplate(agent.userTemplate, run.scope);
    if ('missing' in system || 'missing' in user) {
      const message = [system, user].flatMap((result) => ('missing' in result ? [result.message] : [])).join('; ');
      return finish('failed', undefined, new AgentError(AgentErrorCode.templateVariableMissing, `agent '${agent.id}': ${message}`));
    }
    execution.input = { system: system.text ?? null, user: user.text, model: agent.model };
    await this.deps.executions.saveExecution(execution);

    const choice = modelChoiceOf(agent);
    const messages: ChatMessage[] = [];
    if (system.text !== undefined) messages.push({ role: 'system', content: system.text });
    messages.push({ role: 'user', content: user.text });
    const signal = run.signal ?? new AbortController().signal;
    let lastError: unknown;
    for (let attempt = 1; attempt <= agent.retry.attempts; attempt++) {
      execution.attempts = attempt;
      events.publish({
        ...base(),
        type: 'AGENT_THINKING',
        status: attempt === 1 ? 'started' : 'retrying',
        attempt,
        model: choice.model,
        ...(lastError === undefined ? {} : { reason: failureOf(lastError).message }),
      });
      let result: AttemptResult;
      try {
        result = await readAttempt({
          models: this.deps.models,
          call: {
            request: requestOf(agent, choice.model, messages),
            choice,
            attribution: {
              agentId: agent.id,
              ...(site ? { workflowId: site.workflowId, instanceId: site.instanceId } : {}),
              ...(site?.transitionId === undefined ? {} : { transitionId: site.transitionId }),
            },
            requestId: `agent_${id}_${attempt}_${randomUUID().slice(0, 8)}`,
            signal,
          },
          timeoutMs: agent.timeoutMs,
          onContent: (content) => events.publish({ ...base(), type: 'AGENT_CONTENT', content, attempt }),
          onToolCall: (call) =>
            events.publish({
              ...base(),
              type: 'AGENT_TOOL_CALL',
              toolCallId: call.id,
              name: call.name,
              arguments: call.arguments,
              attempt,
            }),
        });
      } catch (error) {
        if (signal.aborted)
          return finish(
            'cancelled',
            undefined,
            new AgentError(AgentErrorCode.cancelled, `agent '${agent.id}' was cancelled`, { cause: error }),
          );
        lastError = error;
        const served = (error as { served?: AttemptResult['served'] }).served;
        if (served) this.account(execution, served, undefined);
        const failure = failureOf(error);
        if (!failure.retryable || attempt === agent.retry.attempts) break;
        await this.sleep(backoffMs(agent, attempt, error), signal).catch(() => undefined);
        if (signal.aborted)
          return finish('cancelled', undefined, new AgentError(AgentErrorCode.cancelled, `agent '${agent.id}' was cancelled`));
        continue;
      }
      this.account(execution, result.served, result.usage);
      if (agent.outputSchema === undefined) return finish('completed', result.output);
      const checked = checkOutput(result.output.text, agent.outputSchema);
      if (checked.ok) return finish('completed', { ...result.output, json: checked.value });
      lastError = new AgentError(
        AgentErrorCode.outputInvalid,
        `agent '${agent.id}': the answer does not match the output schema: ${checked.problems.join('; ')}`,
        { isRetryable: true },
      );
      // Show the model what was wrong; the next attempt answers the whole conversation.
      messages.push({ role: 'assistant', content: result.output.text });
      messages.push({
        role: 'user',
        content: `Your answer does not match the required JSON schema: ${checked.problems.join('; ')}. Answer again with only JSON that matches the schema.`,
      });
    }
    const timedOut = lastError instanceof AgentError && lastError.code === AgentErrorCode.timeout;
    return finish(timedOut ? 'timed_out' : 'failed', undefined, lastError);
  }

  private account(execution: AgentExecutionRecord, served: AttemptResult['served'], usage: AttemptResult['usage']): void {
    if (served.provider !== undefined) execution.provider = served.provider;
    if (served.model !== undefined) execution.model = served.model;
    execution.promptTokens += usage?.promptTokens ?? 0;
    execution.completionTokens += usage?.completionTokens ?? 0;
    if (served.costUsd !== undefined) execution.costUsd = (execution.costUsd ?? 0) + served.costUsd;
  }
}

/** The execution id: derived from the firing (so a repeated action finds it), random outside workflows. */
export function executionIdOf(agentId: string, site: AgentSite | undefined): string {
  if (site?.firingId === undefined) return `agx_${randomUUID().replaceAll('-', '')}`;
  const digest = createHash('sha256')
    .update(`${site.firingId}\u0000${site.placeId ?? ''}\u0000${agentId}`)
    .digest('hex');
  return `agx_${digest.slice(0, 32)}`;
}

function requestOf(agent: AgentDefinition, model: string, messages: ChatMessage[]): ChatRequest {
  const request: ChatRequest = { model, messages: [...messages], stream: true, stream_options: { include_usage: true } };
  if (agent.temperature !== undefined) request.temperature = agent.temperature;
  if (agent.maxTokens !== undefined) request.max_tokens = agent.maxTokens;
  if (agent.tools.length > 0)
    request.tools = agent.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        parameters: tool.parameters ?? { type: 'object' },
      },
    }));
  if (agent.outputSchema !== undefined)
    request.response_format = {
      type: 'json_schema',
      json_schema: { name: agent.id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64), schema: agent.outputSchema },
    };
  return request;
}

function backoffMs(agent: AgentDefinition, attempt: number, error: unknown): number {
  const { backoffMs: first, multiplier, maxBackoffMs } = agent.retry;
  const computed = first * Math.pow(multiplier, attempt - 1);
  const asked = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return Math.min(maxBackoffMs, Math.max(computed, typeof asked === 'number' ? asked : 0));
}

const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
