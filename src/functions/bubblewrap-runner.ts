import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BoundedText } from './bounded-text.js';
import type { FunctionRunner, RunnerReadiness, RunOutcome, RunRequest, RunVerdict } from './function-runner.js';
import { RunErrorCode } from './function-runner.js';
import { parseLastLine } from './output-contract.js';
import { sandboxArgs, sandboxCodePath, sandboxWorkDir } from './sandbox-args.js';

export interface BubblewrapOptions {
  /** The bwrap binary; default: `bwrap` found on PATH. */
  bwrapPath?: string;
  /** Extra host paths visible read-only inside (an interpreter installed outside /usr, a model directory). */
  readOnlyPaths?: readonly string[];
  /** Size of each private tmpfs (`/tmp`, `/work`), default 64 MiB. */
  tmpfsBytes?: number;
}

/** INPUT_DATA carries the input only up to this size (Linux caps one environment string at 128 KiB); stdin always has it. */
export const maxInputEnvBytes = 64 * 1024;

export const installHint =
  "runtime 'process' runs commands under bubblewrap, which is not usable on this server: install it (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`) and make sure unprivileged user namespaces are allowed";

/**
 * Commands in a bubblewrap sandbox (`sandbox-args.ts` lists what the process can see), under the
 * original's container contract: the input in `INPUT_DATA` (and on stdin), the event in
 * `TRIGGER_EVENT`, ids in `EXECUTION_ID` / `FUNCTION_ID`; the last stdout line is the JSON output;
 * exit code 0 is success. The time limit kills the whole sandbox (its process group; bwrap's PID
 * namespace takes every descendant with it); output past the cap kills it too.
 */
export class BubblewrapRunner implements FunctionRunner {
  readonly runtime = 'process' as const;
  private probed: Promise<RunnerReadiness> | undefined;
  private prlimit: string | undefined;

  constructor(private readonly options: BubblewrapOptions = {}) {}

  private get bwrap(): string | undefined {
    return this.options.bwrapPath ?? findOnPath('bwrap');
  }

  /** Runs `/bin/true` in a sandbox once and remembers the verdict. */
  readiness(): Promise<RunnerReadiness> {
    this.probed ??= this.probe();
    return this.probed;
  }

  private async probe(): Promise<RunnerReadiness> {
    const bwrap = this.bwrap;
    if (bwrap === undefined) return { ready: false, reason: `${installHint} (no bwrap on PATH)` };
    this.prlimit = existsSync('/usr/bin/prlimit') ? '/usr/bin/prlimit' : undefined;
    const args = sandboxArgs(this.sandboxOptions(false, 16, undefined), ['/bin/sh', '-c', 'exit 0']);
    const result = await collect(bwrap, args, {}, 10_000);
    if (result.code !== 0) return { ready: false, reason: `${installHint} (bwrap said: ${result.stderr.trim() || `exit ${result.code}`})` };
    const memory = this.prlimit ? 'memory limits via prlimit' : 'no prlimit (util-linux): memory limits are NOT enforced';
    return { ready: true, detail: `bubblewrap at ${bwrap}; ${memory}` };
  }

  private sandboxOptions(network: boolean, memoryMb: number, codeFile: string | undefined) {
    return {
      readOnlyPaths: this.options.readOnlyPaths ?? [],
      network,
      memoryMb,
      tmpfsBytes: this.options.tmpfsBytes ?? 64 * 1024 * 1024,
      codeFile,
      prlimit: this.prlimit,
    };
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    const ready = await this.readiness();
    const bwrap = this.bwrap;
    if (!ready.ready || bwrap === undefined) {
      return {
        status: 'failed',
        error: { code: RunErrorCode.runtimeUnavailable, message: ready.ready ? installHint : ready.reason },
        stdout: '',
        stderr: '',
        durationMs: 0,
      };
    }
    const { definition, limits } = request;
    const directory = definition.code === undefined ? undefined : await mkdtemp(join(tmpdir(), 'cb-fn-'));
    try {
      let codeFile: string | undefined;
      if (directory !== undefined) {
        codeFile = join(directory, 'code');
        await writeFile(codeFile, definition.code ?? '', { mode: 0o644 });
      }
      const command = definition.command ?? ['/bin/sh', sandboxCodePath];
      const args = sandboxArgs(this.sandboxOptions(limits.network, limits.memoryMb, codeFile), command);
      return await this.spawnSandbox(bwrap, args, request);
    } finally {
      if (directory !== undefined) await rm(directory, { recursive: true, force: true });
    }
  }

  private spawnSandbox(bwrap: string, args: string[], request: RunRequest): Promise<RunOutcome> {
    const { limits } = request;
    const inputJson = JSON.stringify(request.input ?? null);
    const env: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: sandboxWorkDir,
      LANG: 'C.UTF-8',
      ...request.environment,
      INPUT_DATA: Buffer.byteLength(inputJson) <= maxInputEnvBytes ? inputJson : '',
      TRIGGER_EVENT: JSON.stringify(request.triggerEvent ?? null).slice(0, maxInputEnvBytes),
      EXECUTION_ID: request.executionId,
      FUNCTION_ID: request.definition.name,
    };
    const started = performance.now();
    const stdout = new BoundedText(limits.maxOutputBytes);
    const stderr = new BoundedText(limits.maxOutputBytes);
    return new Promise<RunOutcome>((resolve) => {
      // detached: the sandbox gets its own process group, so a kill reaches bwrap and everything under it.
      const child = spawn(bwrap, args, { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
      let ended: RunVerdict | undefined;
      const kill = (verdict: RunVerdict): void => {
        ended ??= verdict;
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }
      };
      const timer = setTimeout(
        () =>
          kill({
            status: 'timed_out',
            error: {
              code: RunErrorCode.timedOut,
              message: `the process ran longer than its limit of ${limits.timeoutMs} ms and was killed`,
            },
          }),
        limits.timeoutMs,
      );
      const onAbort = () => kill({ status: 'cancelled', error: { code: RunErrorCode.cancelled, message: 'cancelled' } });
      request.signal?.addEventListener('abort', onAbort, { once: true });
      if (request.signal?.aborted) onAbort();
      const tooMuch = () =>
        kill({
          status: 'failed',
          error: {
            code: RunErrorCode.outputTooLarge,
            message: `the process wrote more than ${limits.maxOutputBytes} bytes to stdout or stderr and was killed`,
          },
        });
      child.stdout.on('data', (chunk: Buffer) => stdout.append(chunk) || tooMuch());
      child.stderr.on('data', (chunk: Buffer) => stderr.append(chunk) || tooMuch());
      child.stdin.on('error', () => undefined); // a function that does not read stdin closes it early
      child.stdin.end(inputJson);
      child.on('error', (error) => {
        const verdict: RunVerdict = {
          status: 'failed',
          error: { code: RunErrorCode.runtimeUnavailable, message: `cannot start bubblewrap: ${error.message}` },
        };
        if (child.pid !== undefined) return kill(verdict);
        clearTimeout(timer);
        resolve({ ...verdict, stdout: '', stderr: '', durationMs: performance.now() - started });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        const base = {
          stdout: stdout.text(),
          stderr: stderr.text(),
          durationMs: performance.now() - started,
          ...(code === null ? {} : { exitCode: code }),
        };
        resolve({ ...base, ...(ended ?? verdictOf(code, signal, base.stdout, limits.memoryMb)) });
      });
    });
  }
}

function verdictOf(code: number | null, signal: NodeJS.Signals | null, stdout: string, memoryMb: number): RunVerdict {
  if (code !== 0) {
    const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`;
    return {
      status: 'failed',
      error: {
        code: RunErrorCode.functionError,
        message: `the process ${how} (stderr has its own words; when it ran out of memory, raise limits.memoryMb from ${memoryMb})`,
      },
    };
  }
  const parsed = parseLastLine(stdout);
  return parsed.ok
    ? { status: 'completed', output: parsed.output }
    : { status: 'failed', error: { code: RunErrorCode.invalidOutput, message: parsed.message } };
}

/** Runs a short command and collects its exit code and stderr (for the probe). */
function collect(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { PATH: '/usr/bin:/bin', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr = new BoundedText(4096);
    child.stderr.on('data', (chunk: Buffer) => stderr.append(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => resolve({ code: -1, stderr: error.message }));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr: stderr.text() });
    });
  });
}

function findOnPath(name: string): string | undefined {
  for (const directory of (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(directory, name);
    if (directory !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}
