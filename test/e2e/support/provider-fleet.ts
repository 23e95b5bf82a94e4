import { startEmulator } from '../../emulators/index.js';
import type { Emulator } from '../../emulators/index.js';
import { emulatorKey, gatewayEnv, providerCases } from '../../contract/provider-matrix.js';
import type { ProviderCase } from '../../contract/provider-matrix.js';
import { startGateway } from './gateway-process.js';
import type { GatewayProcess } from './gateway-process.js';

export interface Fleet {
  gateway: GatewayProcess;
  /** The emulator behind each provider name (`openai`, `azure_openai`, `anthropic`, `google`, `ollama`, `custom`). */
  emulators: Record<string, Emulator>;
  cases: ProviderCase[];
  stop(): Promise<void>;
}

/** Starts one emulator per provider kind and the real gateway configured for all six through env variables. */
export async function startFleet(extraEnv: Record<string, string> = {}, configYaml?: string): Promise<Fleet> {
  const emulators: Record<string, Emulator> = {};
  const urls: Record<string, string> = {};
  for (const entry of providerCases) {
    const emulator = await startEmulator({ kind: entry.emulator, apiKey: emulatorKey });
    emulators[entry.name] = emulator;
    urls[entry.name === 'custom' ? 'custom' : entry.emulator] = emulator.url;
  }
  const gateway = await startGateway({ env: { ...gatewayEnv(urls), ...extraEnv }, ...(configYaml === undefined ? {} : { configYaml }) });
  return {
    gateway,
    emulators,
    cases: providerCases,
    async stop() {
      await gateway.stop();
      await Promise.all(Object.values(emulators).map((emulator) => emulator.close()));
    },
  };
}

/** The `provider/model` name that reaches this case's emulator. */
export function modelName(entry: ProviderCase, model: string = entry.chatModel): string {
  return `${entry.name}/${model}`;
}

/** Requests that carried a client's work (chat, embeddings) to any emulator; model listings (GET, discovery) do not count. */
export function totalRequests(fleet: Fleet): number {
  return Object.values(fleet.emulators).reduce(
    (sum, emulator) => sum + emulator.requests.filter((request) => request.method !== 'GET').length,
    0,
  );
}
