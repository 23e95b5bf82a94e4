import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');
/** tsx's loader by absolute URL: the child runs in a scratch directory with no node_modules. */
export const tsxLoader = import.meta.resolve('tsx');

export interface GatewayProcess {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Every log line the server wrote (stderr), for assertions (e.g. no secret in logs). */
  logs: string[];
  process: ChildProcess;
  dataDir: string;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  /** Environment variables (provider keys and URLs); nothing of the test runner's environment leaks in. */
  env?: Record<string, string>;
  /** YAML written to a file and passed as CB_CONFIG. */
  configYaml?: string;
  /** Reuse a data directory (restart tests). */
  dataDir?: string;
  /** The entry file to run instead of `src/main.ts serve` (a harness that wires test executors). */
  entry?: string;
  /** A built bundle to run with plain node (`node <bundle> serve`, no tsx) instead of the source. */
  bundle?: string;
}

/**
 * Starts the real server as a child process (`src/main.ts serve` through tsx, so tests always run the
 * current source; or a built bundle with `bundle`) on a free loopback port, and resolves once it logs
 * that it is listening.
 */
export async function startGateway(options: GatewayOptions = {}): Promise<GatewayProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'cb-e2e-'));
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? dataDir,
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    CB_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  if (options.configYaml !== undefined) {
    const file = join(dataDir, 'circuit-breaker.yaml');
    writeFileSync(file, options.configYaml);
    env['CB_CONFIG'] = file;
  }
  const args =
    options.bundle !== undefined
      ? [options.bundle, 'serve']
      : ['--import', tsxLoader, ...(options.entry === undefined ? [join(root, 'src/main.ts'), 'serve'] : [options.entry])];
  const child = spawn(process.execPath, args, {
    cwd: dataDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in 20 s:\n${logs.join('\n')}`)), 20_000);
    let buffer = '';
    const onData = (data: Buffer): void => {
      buffer += data.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        logs.push(line);
        const match = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(line);
        if (match?.[1]) {
          clearTimeout(timer);
          resolveUrl(match[1]);
        }
        newline = buffer.indexOf('\n');
      }
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with code ${code} before listening:\n${logs.join('\n')}`));
    });
  });
  return {
    url,
    logs,
    process: child,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads an SSE response body as text. */
export async function readBody(response: Response): Promise<string> {
  return await response.text();
}
