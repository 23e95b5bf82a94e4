import { lstatSync, readlinkSync } from 'node:fs';

/**
 * The bubblewrap command line of one sandboxed process. What the process sees:
 * - `/usr` read-only, and `/bin`, `/lib`, `/lib64`, `/sbin` as on the host (symlinks into `/usr` on a
 *   merged-/usr system, read-only binds otherwise); from `/etc` only `alternatives` and `ld.so.cache`
 *   (plus `resolv.conf`, `hosts` and `ssl` when the function has network); the extra read-only paths the
 *   operator configured; nothing else of the host (no `/root`, `/home`, `/work`, `/var`, `/etc/shadow`);
 * - a private `/proc` and a minimal `/dev`; private tmpfs at `/tmp` and at `/work` (the working directory
 *   and `HOME`); the function's code, when it has some, read-only at `/function/code`;
 * - new user, PID, IPC, UTS, cgroup and network namespaces (`--unshare-all`; `--share-net` only when the
 *   definition asks for network), uid/gid 65534 (nobody), no capabilities;
 * - `--die-with-parent` (the sandbox dies with the server) and `--new-session` (no terminal injection);
 * - inside, `prlimit` caps the address space (the memory limit), file size, open files and core dumps.
 */
export interface SandboxOptions {
  /** Host paths made visible read-only at the same place (e.g. an interpreter outside /usr). */
  readOnlyPaths: readonly string[];
  network: boolean;
  memoryMb: number;
  /** Bytes of each tmpfs (`/tmp`, `/work`). */
  tmpfsBytes: number;
  /** Host file holding the function's code, bound at `/function/code`. */
  codeFile: string | undefined;
  /** Path of `prlimit` inside the sandbox, or undefined to run without it (the probe says why). */
  prlimit: string | undefined;
}

/** Where the function's code appears inside the sandbox. */
export const sandboxCodePath = '/function/code';
export const sandboxWorkDir = '/work';

export function sandboxArgs(options: SandboxOptions, command: readonly string[]): string[] {
  const args: string[] = ['--ro-bind', '/usr', '/usr'];
  for (const top of ['/bin', '/lib', '/lib64', '/sbin']) args.push(...topLevel(top));
  args.push('--ro-bind-try', '/etc/alternatives', '/etc/alternatives', '--ro-bind-try', '/etc/ld.so.cache', '/etc/ld.so.cache');
  if (options.network) {
    for (const file of ['/etc/resolv.conf', '/etc/hosts', '/etc/ssl', '/etc/ca-certificates']) args.push('--ro-bind-try', file, file);
  }
  for (const path of options.readOnlyPaths) args.push('--ro-bind', path, path);
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--size', String(options.tmpfsBytes), '--tmpfs', '/tmp');
  args.push('--size', String(options.tmpfsBytes), '--tmpfs', sandboxWorkDir);
  if (options.codeFile !== undefined) args.push('--ro-bind', options.codeFile, sandboxCodePath);
  args.push('--chdir', sandboxWorkDir);
  args.push('--unshare-all');
  if (options.network) args.push('--share-net');
  args.push('--uid', '65534', '--gid', '65534', '--hostname', 'sandbox');
  args.push('--cap-drop', 'ALL', '--die-with-parent', '--new-session', '--');
  if (options.prlimit !== undefined) {
    const bytes = options.memoryMb * 1024 * 1024;
    args.push(options.prlimit, `--as=${bytes}`, '--core=0', '--nofile=256', `--fsize=${options.tmpfsBytes}`, '--');
  }
  args.push(...command);
  return args;
}

/** `/bin` & co.: a symlink on a merged-/usr host (recreated as one), else a read-only bind when present. */
function topLevel(path: string): string[] {
  try {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return ['--symlink', readlinkSync(path), path];
    return ['--ro-bind', path, path];
  } catch {
    return [];
  }
}
