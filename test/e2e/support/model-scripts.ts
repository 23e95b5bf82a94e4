import type { Emulator, ScriptedReply } from '../../emulators/index.js';

export interface ModelScripts {
  /** Replies for the next requests naming `model`, first in first out; then the default reply. */
  script(model: string, ...replies: ScriptedReply[]): void;
  /** Chat requests the emulator received for `model`. */
  seen(model: string): number;
}

/**
 * Scripts an emulator per upstream model rather than with one shared queue, so tests that each use a
 * model of their own can run concurrently against the same emulator.
 */
export function scriptByModel(emulator: Emulator, fallback: ScriptedReply): ModelScripts {
  const scripts = new Map<string, ScriptedReply[]>();
  const counts = new Map<string, number>();
  emulator.setDefault((_body, model) => {
    counts.set(model, (counts.get(model) ?? 0) + 1);
    return scripts.get(model)?.shift() ?? fallback;
  });
  return {
    script: (model, ...replies) => void scripts.set(model, [...(scripts.get(model) ?? []), ...replies]),
    seen: (model) => counts.get(model) ?? 0,
  };
}

/** Polls `check` every 25 ms until it holds (e2e only: real time passes in the server under test). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
