/**
 * The gateway as the benchmark runs it: the realistic configuration the targets apply to — a gateway key
 * created with the CLI in a fresh data directory (sent as Bearer), the usage ledger on SQLite and the
 * metrics (both always on) — and, with `--baseline REF`, the same server built from another git commit
 * so before/after are measured side by side in one run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from './processes.js';
import type { Managed } from './processes.js';

/** A built tree: its bundle `dist/bundle/main.js` is what is spawned (`dist/src/main.js` for commits before the bundle). */
export interface GatewayBuild {
  label: string;
  root: string;
}

/** The entry file of a build: the bundle (ADR 0014), or tsc's output tree for a commit that predates it. */
export function entryOf(build: GatewayBuild): string {
  const bundle = join(build.root, 'dist/bundle/main.js');
  return existsSync(bundle) || !existsSync(join(build.root, 'dist/src/main.js')) ? bundle : join(build.root, 'dist/src/main.js');
}

export interface GatewayInstance {
  managed: Managed;
  /** `Bearer` value: a gateway key (`cb_…`) created for this instance. */
  key: string;
  dataDir: string;
}

/**
 * Builds `ref` (a commit, branch or tag of this repository) into a scratch directory: `git archive` of
 * the ref, this checkout's node_modules linked in, then the ref's own build: `node scripts/build.mjs`
 * (the bundle), or `tsc -p tsconfig.build.json` for a commit from before it. Nothing in the repository
 * or its git metadata changes.
 */
export function buildBaseline(root: string, ref: string): GatewayBuild {
  const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', ref], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), `cb-bench-baseline-${commit}-`));
  execFileSync('sh', ['-c', `git -C "${root}" archive "${commit}" | tar -x -C "${dir}"`]);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  if (existsSync(join(dir, 'scripts/build.mjs')))
    execFileSync(process.execPath, [join(dir, 'scripts/build.mjs')], { cwd: dir, stdio: 'inherit' });
  else execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.build.json')], { cwd: dir, stdio: 'inherit' });
  return { label: `gateway@${commit}`, root: dir };
}

/** Creates a gateway key in `dataDir` with the built CLI (`keys create`), the way an operator would. */
export function createKey(build: GatewayBuild, dataDir: string): string {
  const key = execFileSync(process.execPath, [entryOf(build), 'keys', 'create', '--name', 'bench'], {
    cwd: dataDir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dataDir, CB_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
  if (!key.startsWith('cb_')) throw new Error(`keys create printed no key: ${key.slice(0, 80)}`);
  return key;
}

/** A fresh data directory with one gateway key in it. */
export function prepareDataDir(build: GatewayBuild, prefix: string): { dataDir: string; key: string } {
  const dataDir = mkdtempSync(join(tmpdir(), `cb-bench-${prefix}-`));
  mkdirSync(dataDir, { recursive: true });
  return { dataDir, key: createKey(build, dataDir) };
}

/** Starts `serve` from a build with the given provider environment, in a data directory that holds a key. */
export async function startGateway(
  build: GatewayBuild,
  name: string,
  port: number,
  providers: Record<string, string>,
  extraNodeArgs: string[] = [],
): Promise<GatewayInstance> {
  const { dataDir, key } = prepareDataDir(build, name);
  const main = entryOf(build);
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build`);
  const managed = await launch(
    name,
    process.execPath,
    [...extraNodeArgs, main, 'serve'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info', // the harness waits for the "listening" line; nothing is logged per request
      CB_DATA_DIR: dataDir,
      ...providers,
    },
    /listening/,
    dataDir,
  );
  return { managed, key, dataDir };
}
