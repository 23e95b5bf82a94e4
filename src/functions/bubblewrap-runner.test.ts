import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BubblewrapRunner } from './bubblewrap-runner.js';
import { functionDefinitionSchema, resolveLimits } from './function-definition.js';
import type { FunctionDefinitionInput } from './function-definition.js';
import type { RunOutcome } from './function-runner.js';

const runner = new BubblewrapRunner();
const readiness = await runner.readiness();
if (!readiness.ready && process.env['CI'] === 'true') throw new Error(`bubblewrap must work in CI: ${readiness.reason}`);
if (!readiness.ready) console.warn(`skipping sandbox tests: ${readiness.reason}`);

async function run(fields: Partial<FunctionDefinitionInput>, input: unknown = {}): Promise<RunOutcome> {
  const definition = functionDefinitionSchema.parse({ name: 'proc-test', runtime: 'process', ...fields });
  return runner.run({
    definition,
    limits: resolveLimits(definition),
    input,
    executionId: 'exec_42',
    triggerEvent: { type: 'TOKEN_CREATED', place: 'review' },
    environment: definition.environment,
  });
}

const sh = (script: string) => ({ command: ['/bin/sh', '-c', script] });

describe.skipIf(!readiness.ready)('BubblewrapRunner (sandbox)', () => {
  const hostDirectory = mkdtempSync(join(tmpdir(), 'cb-host-secret-'));
  const hostSecret = join(hostDirectory, 'secret.txt');
  writeFileSync(hostSecret, 'host secret');
  afterAll(() => rmSync(hostDirectory, { recursive: true, force: true }));

  it('follows the contract: env vars, stdin, last stdout line as JSON, stderr captured', async () => {
    const outcome = await run(
      {
        ...sh(
          'echo "starting"; echo "a warning" >&2; read -r line || true; ' +
            'printf \'{"env":%s,"stdin":%s,"id":"%s","fn":"%s","trigger":%s,"mine":"%s","pwd":"%s"}\\n\' "$INPUT_DATA" "$line" "$EXECUTION_ID" "$FUNCTION_ID" "$TRIGGER_EVENT" "$GREETING" "$(pwd)"',
        ),
        environment: { GREETING: 'hi' },
      },
      { order: 7 },
    );
    expect(outcome).toMatchObject({
      status: 'completed',
      exitCode: 0,
      output: {
        env: { order: 7 },
        stdin: { order: 7 },
        id: 'exec_42',
        fn: 'proc-test',
        trigger: { type: 'TOKEN_CREATED', place: 'review' },
        mine: 'hi',
        pwd: '/work',
      },
    });
    expect(outcome.stdout.startsWith('starting\n')).toBe(true);
    expect(outcome.stderr).toBe('a warning\n');
  });

  it('runs code mounted read-only at /function/code with /bin/sh by default', async () => {
    const outcome = await run({ code: 'cat; echo; echo \'{"ran": true}\'; touch /function/code 2>/dev/null && echo writable >&2; exit 0' });
    expect(outcome).toMatchObject({ status: 'completed', output: { ran: true }, stderr: '' });
  });

  it('reports a non-zero exit as a failure with the exit code and stderr', async () => {
    const outcome = await run(sh('echo "bad things" >&2; exit 3'));
    expect(outcome).toMatchObject({ status: 'failed', exitCode: 3, stderr: 'bad things\n', error: { code: 'function_error' } });
    expect(outcome.status === 'failed' && outcome.error.message).toContain('exited with code 3');
  });

  it('refuses a last line that is not JSON', async () => {
    expect(await run(sh('echo done'))).toMatchObject({ status: 'failed', error: { code: 'invalid_output' } });
  });

  it('cannot read outside its root: /root, /etc/shadow, the repository, /work of the host, the host /tmp', async () => {
    const repository = resolve('.');
    const paths = [
      '/root',
      '/etc/shadow',
      '/etc/passwd',
      '/home',
      '/var',
      repository,
      join(repository, 'package.json'),
      '/work/shared',
      hostSecret,
    ];
    const script = `for p in ${paths.map((path) => `'${path}'`).join(' ')}; do if [ -e "$p" ]; then printf 'seen:%s\\n' "$p" >&2; fi; done; cat /etc/shadow 2>/dev/null && echo leaked >&2; touch /usr/escape 2>/dev/null && echo wrote-usr >&2; echo '"checked"'`;
    const outcome = await run(sh(script));
    expect(outcome).toMatchObject({ status: 'completed', output: 'checked' });
    expect(outcome.stderr).toBe('');
    // The same probe outside the sandbox does see them: the test can fail.
    expect(readFileSync(hostSecret, 'utf8')).toBe('host secret');
  });

  it('runs as nobody with no capabilities', async () => {
    const outcome = await run(sh('printf \'{"uid":"%s","cap":"%s"}\\n\' "$(id -u)" "$(grep CapEff /proc/self/status | cut -f2)"'));
    expect(outcome).toMatchObject({ status: 'completed', output: { uid: '65534', cap: '0000000000000000' } });
  });

  it('cannot reach the network, not even a listener on 127.0.0.1 (and can when network is on)', async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as AddressInfo).port;
    try {
      const probe = sh(`if bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' 2>/dev/null; then echo '"connected"'; else echo '"refused"'; fi`);
      expect(await run(probe)).toMatchObject({ status: 'completed', output: 'refused' });
      expect(connections).toBe(0);
      expect(await run({ ...probe, limits: { network: true } })).toMatchObject({ status: 'completed', output: 'connected' });
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  it('cannot outlive its time limit: the loop and its background children are killed', async () => {
    const marker = String(900_000 + Math.floor(Math.random() * 99_999));
    const started = performance.now();
    const running = run({ ...sh(`sleep ${marker} & sleep ${marker} & while :; do :; done`), limits: { timeoutMs: 800 } });
    await new Promise((done) => setTimeout(done, 400));
    expect(processesRunning(['sleep', marker])).toHaveLength(2); // the probe sees them while they live
    const outcome = await running;
    expect(outcome).toMatchObject({ status: 'timed_out', error: { code: 'timed_out' } });
    expect(performance.now() - started).toBeLessThan(5000);
    await new Promise((done) => setTimeout(done, 200));
    expect(processesRunning(['sleep', marker])).toEqual([]);
  });

  it('enforces the memory limit (address space)', async () => {
    const hog = { command: ['perl', '-e', '$x = "x" x (256 * 1024 * 1024); print "\\"ok\\"\\n"'] };
    expect(await run({ ...hog, limits: { memoryMb: 64 } })).toMatchObject({ status: 'failed', error: { code: 'function_error' } });
    expect(await run({ ...hog, limits: { memoryMb: 1024 } })).toMatchObject({ status: 'completed', output: 'ok' });
  });

  it('kills a process that floods stdout past the cap', async () => {
    const outcome = await run({ command: ['yes'], limits: { maxOutputBytes: 4096, timeoutMs: 10_000 } });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'output_too_large' } });
    expect(outcome.stdout.length).toBe(4096);
  });

  it('can write only to its private /tmp and /work, which do not persist', async () => {
    expect(await run(sh('echo x > /work/file && echo y > /tmp/file && echo \'"ok"\''))).toMatchObject({ output: 'ok' });
    expect(await run(sh('[ -e /work/file ] || [ -e /tmp/file ] && echo \'"kept"\' || echo \'"gone"\''))).toMatchObject({ output: 'gone' });
  });
});

describe('BubblewrapRunner without bubblewrap', () => {
  it('is not ready and fails process functions with a message telling how to install it', async () => {
    const missing = new BubblewrapRunner({ bwrapPath: '/nonexistent/bwrap' });
    const state = await missing.readiness();
    expect(state.ready).toBe(false);
    const definition = functionDefinitionSchema.parse({ name: 'p', runtime: 'process', command: ['true'] });
    const outcome = await missing.run({
      definition,
      limits: resolveLimits(definition),
      input: {},
      executionId: 'e',
      triggerEvent: null,
      environment: {},
    });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'runtime_unavailable' } });
    expect(outcome.status === 'failed' && outcome.error.message).toContain('apt-get install bubblewrap');
  });
});

/** Live processes whose argv is exactly `argv`. */
function processesRunning(argv: readonly string[]): string[] {
  const needle = argv.join('\0') + '\0';
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (commandLine === needle) found.push(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}
