// What a tool's name starts, as a key that changes whenever its version could: the resolved binary's
// realpath and stat, and for a `#!` script what it runs, where that is cheap to read (a venv's python;
// a pyenv shim's pick of version by PYENV_VERSION / .python-version / the global version file). Only
// stat calls and a first line read: the point is to not start the tool to learn its version.
import { closeSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path';

const MAX_DEPTH = 3;

function isExecutableFile(path: string): boolean {
  try {
    const st = statSync(path);
    // Any execute bit: a PATH search as execvp does it; permission errors show when the tool runs.
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The file `program` names through `PATH` (execvp's search), undefined when none. */
export function whichSync(program: string, env: NodeJS.ProcessEnv, cwd: string, skip?: (dir: string) => boolean): string | undefined {
  if (program.includes('/')) return isExecutableFile(resolve(cwd, program)) ? resolve(cwd, program) : undefined;
  for (const entry of (env.PATH ?? '').split(delimiter)) {
    // An empty entry is the current folder, to execvp as to the shell.
    const dir = entry || '.';
    if (skip?.(dir)) continue;
    const path = join(isAbsolute(dir) ? dir : resolve(cwd, dir), program);
    if (isExecutableFile(path)) return path;
  }
  return undefined;
}

function firstLine(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('latin1');
    return text.split('\n', 1)[0] ?? '';
  } finally {
    closeSync(fd);
  }
}

const statPart = (real: string): string => {
  const st = statSync(real, { bigint: true });
  return `${real}|${st.size}|${st.mtimeNs}|${st.ctimeNs}|${st.ino}|${st.dev}`;
};

/** pyenv's choice of version for `cwd`, as `pyenv version-name` makes it, without starting pyenv. */
function pyenvSelection(root: string, env: NodeJS.ProcessEnv, cwd: string): string {
  if (env.PYENV_VERSION) return `env:${env.PYENV_VERSION}`;
  for (let dir = resolve(env.PYENV_DIR ?? cwd); ; dir = dirname(dir)) {
    try {
      return `file:${join(dir, '.python-version')}:${readFileSync(join(dir, '.python-version'), 'utf8').trim()}`;
    } catch {
      // none here: the folder above
    }
    if (dirname(dir) === dir) break;
  }
  try {
    return `global:${readFileSync(join(root, 'version'), 'utf8').trim()}`;
  } catch {
    return 'global:system';
  }
}

/** The binary a pyenv shim runs for `program`, with the selection that picked it (always part of the key). */
function pyenvTarget(shim: string, text: string, program: string, env: NodeJS.ProcessEnv, cwd: string): { selection: string; target?: string } {
  const root = env.PYENV_ROOT ?? /export PYENV_ROOT="([^"]+)"/.exec(text)?.[1] ?? dirname(dirname(shim));
  const selection = pyenvSelection(root, env, cwd);
  const names = selection.slice(selection.indexOf(':', selection.startsWith('file:') ? 5 : 0) + 1).split(/[\s:]+/).filter((v) => v && !v.startsWith('#'));
  for (const name of names) {
    const target = name === 'system'
      ? whichSync(program, env, cwd, (dir) => resolve(dir) === dirname(shim) || resolve(dir) === join(root, 'shims'))
      : join(root, 'versions', name, 'bin', program);
    if (target && isExecutableFile(target)) return { selection, target };
  }
  return { selection };
}

function describe(path: string, program: string, env: NodeJS.ProcessEnv, cwd: string, depth: number): string[] {
  const real = realpathSync(path);
  const parts = [statPart(real)];
  if (depth >= MAX_DEPTH) return parts;
  const line = firstLine(real);
  if (!line.startsWith('#!')) return parts;
  const [interp, ...rest] = line.slice(2).trim().split(/\s+/);
  if (!interp) return parts;
  // `#!/usr/bin/env python3`: the interpreter is found on PATH.
  const runs = basename(interp) === 'env' ? whichSync(rest.find((a) => !a.startsWith('-')) ?? '', env, cwd) : interp;
  if (runs && isExecutableFile(runs)) parts.push(...describe(runs, basename(runs), env, cwd, depth + 1));
  else parts.push(`interpreter:${line}`);
  const text = /pyenv/.test(line) || real.includes('/shims/') ? readFileSync(real, 'utf8').slice(0, 4096) : '';
  if (/libexec\/pyenv"? exec/.test(text)) {
    const { selection, target } = pyenvTarget(real, text, program, env, cwd);
    parts.push(`pyenv:${selection}`);
    if (target) parts.push(...describe(target, program, env, cwd, depth + 1));
  }
  return parts;
}

/**
 * The key of what `program` starts under `env` from `cwd`, or undefined when it cannot be found or
 * read (then nothing is remembered: the tool is asked, and its own start says what is wrong).
 */
export function binaryKey(program: string, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  try {
    const path = whichSync(program, env, cwd);
    if (!path) return undefined;
    return [program, ...describe(path, basename(program), env, cwd, 0)].join('\n');
  } catch {
    return undefined;
  }
}
