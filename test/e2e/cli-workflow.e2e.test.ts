import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** `circuit-breaker workflow check|apply|run|status` on YAML files and the configured (SQLite) store. */
const root = resolve(import.meta.dirname, '../..');
const tsxLoader = import.meta.resolve('tsx');
const dataDir = mkdtempSync(join(tmpdir(), 'cb-cli-workflow-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', tsxLoader, join(root, 'src/main.ts'), 'workflow', ...args], {
    cwd: dataDir,
    env: { PATH: process.env['PATH'] ?? '', CB_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const example = join(root, 'examples/workflows/document-review.yaml');

describe('circuit-breaker workflow', () => {
  it('checks a sound file (exit 0) and a deadlocking one (exit 1, with the firing sequence)', () => {
    const sound = cli(['check', example]);
    expect(sound.status).toBe(0);
    expect(sound.stdout).toContain('✓ the definition can be published');
    expect(sound.stdout).toContain('soundness: sound');
    expect(sound.stdout).toContain('may pass');
    const file = join(dataDir, 'stuck.yaml');
    writeFileSync(
      file,
      'name: stuck\nplaces: [{id: i}, {id: a}, {id: b}, {id: o}]\ntransitions:\n  - {id: left, inputs: [i], outputs: [a]}\n  - {id: right, inputs: [i], outputs: [b]}\n  - {id: join, inputs: [a, b], outputs: [o]}\nstart: i\nend: o\n',
    );
    const stuck = cli(['check', file]);
    expect(stuck.status).toBe(1);
    expect(stuck.stdout).toContain('[deadlock]');
    expect(stuck.stdout).toContain('firing sequence: left');
    const broken = join(dataDir, 'broken.yaml');
    writeFileSync(broken, 'name: [unclosed\n');
    const unreadable = cli(['check', broken]);
    expect(unreadable.status).toBe(1);
    expect(unreadable.stderr).toContain('not valid YAML');
    expect(cli(['check', join(dataDir, 'missing.yaml')]).stderr).toContain('no such file');
  }, 120_000);

  it('applies (new version when the id exists), runs with data, and shows the status', () => {
    const first = cli(['apply', example]);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('published document-review version 1');
    expect(cli(['apply', example]).stdout).toContain('published document-review version 2');
    const started = cli(['run', 'document-review', '--data', '{"pages": 3}', '--json']);
    expect(started.status).toBe(0);
    const instance = JSON.parse(started.stdout) as { id: string; status: string; version: number; marking: Record<string, number> };
    expect(instance).toMatchObject({ status: 'waiting', version: 2, marking: { summarised: 1 } });
    const status = cli(['status', instance.id]);
    expect(status.stdout).toContain('status: waiting');
    expect(status.stdout).toContain('current place: summarised');
    expect(status.stdout).toContain('approve (manual): enabled, guard refuses');
    expect(status.stdout).toMatch(/#\d+ .* STATUS_CHANGED/);
    expect(cli(['run', 'document-review', '--data', '[1]']).stderr).toContain('--data must be a JSON object');
    expect(cli(['status', 'wi_nope']).stderr).toContain("no workflow instance 'wi_nope'");
  }, 120_000);

  it('applies the seed steps form and a definition with an agent on a place (compiled and expanded)', () => {
    const steps = join(dataDir, 'steps.yaml');
    writeFileSync(
      steps,
      'workflowId: cli_steps\nsteps:\n  - {type: summarize, agent: cli_summarizer, model: openai/gpt-4o, prompt: "Summarize {text}"}\n',
    );
    const first = cli(['apply', steps]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('published cli_steps version 1');
    expect(cli(['apply', steps]).stdout).toContain('published cli_steps version 2');
    const placed = join(dataDir, 'placed.yaml');
    writeFileSync(
      placed,
      'id: cli_placed\nname: placed\nplaces:\n  - {id: inbox, agent: {agent: {id: tagger, model: openai/gpt-4o, userTemplate: "Tag {x}"}, then: go}}\n  - {id: done}\ntransitions:\n  - {id: go, inputs: [inbox], outputs: [done]}\nstart: inbox\nend: done\n',
    );
    const applied = cli(['apply', placed]);
    expect(applied.status).toBe(0);
    expect(applied.stdout).toContain('published cli_placed version 1');
    const started = cli(['run', 'cli_placed', '--data', '{"x": 1}', '--json']);
    // The expanded net: the place's agent transition took the token (its action waits for a server).
    expect(JSON.parse(started.stdout)).toMatchObject({ marking: { '@inbox_agent': 1 } });
    const status = cli(['status', (JSON.parse(started.stdout) as { id: string }).id]);
    expect(status.stdout).toContain('inbox_agent');
  }, 120_000);
});
