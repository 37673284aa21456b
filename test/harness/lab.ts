// A temp lab per test: files, a manifest, an isolated HOME, and the real CLI to drive.
import { execa } from 'execa';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDirs } from '../../src/temp-dirs.fixture.js';
import { isolatedEnv } from './env.js';

// A test removes what it makes: a test file's labs go when it is done, after its own afterAll hooks
// (registered later, run first) have stopped the servers kept in them.
const tempDir = tempDirs();

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'labsync.js');

export interface CliResult { readonly exitCode: number; readonly stdout: string; readonly stderr: string; readonly durationMs: number }

export class Lab {
  readonly root: string;
  readonly home: string;
  readonly env: Record<string, string>;

  constructor(prefix = 'labsync-test-') {
    this.root = tempDir(prefix);
    this.home = join(this.root, 'home');
    mkdirSync(join(this.root, 'lab'), { recursive: true });
    this.env = isolatedEnv(this.home);
  }

  /** Path inside the lab (the manifest's folder). */
  path(...parts: string[]): string {
    return join(this.root, 'lab', ...parts);
  }

  /** Path beside the lab: remotes, other clones. */
  outside(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  manifest(text: string): this {
    writeFileSync(this.path('labsync.yaml'), text);
    return this;
  }

  write(path: string, content: string | Buffer): this {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return this;
  }

  /** Every file under `dir` (relative path → content), for exact comparisons of a destination. */
  tree(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else out[relative(dir, p)] = readFileSync(p, 'utf8');
      }
    };
    walk(dir);
    return out;
  }

  /** Runs the CLI to its end; `input` is its standard input (none otherwise). */
  async cli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string; input?: string } = {}): Promise<CliResult> {
    const started = Date.now();
    const r = await execa(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? this.path(), env: { ...this.env, ...options.env }, extendEnv: false, reject: false,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), durationMs: Date.now() - started };
  }

  /** Starts the CLI and hands back the running process, for signals and races. */
  /** `output`: a file both streams are appended to by the shell (`>> file 2>&1`: the process's own fds are that file), instead of pipes. */
  spawn(args: readonly string[], options: { env?: Record<string, string>; cwd?: string; output?: string } = {}) {
    const o = { cwd: options.cwd ?? this.path(), env: { ...this.env, ...options.env }, extendEnv: false, reject: false, stdin: 'ignore' } as const;
    if (options.output) return execa('sh', ['-c', 'out=$1; shift; exec "$@" >> "$out" 2>&1', 'sh', options.output, process.execPath, BIN, ...args], o);
    return execa(process.execPath, [BIN, ...args], o);
  }
}

/** The first pair of a run's `--json` document. */
export const firstPair = <T>(r: { stdout: string }): T => json<{ pairs: T[] }>(r as CliResult).pairs[0] as T;

export function json<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/**
 * A lab whose runs log in every time (LABSYNC_SSH_PERSIST=0: no connection kept between runs), for
 * the tests of that cold path: they count each run's logins and sessions.
 */
export function coldLab(prefix?: string): Lab {
  const lab = new Lab(prefix);
  lab.env.LABSYNC_SSH_PERSIST = '0';
  return lab;
}
