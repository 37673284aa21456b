// One find run to its end with its whole output (folder-list.ts, changed-since.ts): in labsync's process
// group, so a terminal's Ctrl-C stops it too; LC_ALL=C, so its messages are in English.
import { spawn } from 'node:child_process';
import { mark } from '../util/trace.js';

export interface FindRun {
  /** find's exit code; 127: it could not be started for a missing file (no find, or no such folder), 126: otherwise. */
  readonly code: number;
  readonly out: Buffer;
  /** What find said on stderr, or why it could not be started. */
  readonly stderr: string;
}

/** find with `args` in `cwd`, `input` on its stdin; `label` names it in LABSYNC_TRACE's marks. */
export function runFind(args: readonly string[], cwd: string, label: string, input?: Buffer): Promise<FindRun> {
  return new Promise((resolve) => {
    const child = spawn('find', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    mark(`find spawned (${label})`);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => void (stderr += b.toString('utf8')));
    child.stdin.on('error', () => undefined); // find gone early: its exit code tells
    child.stdin.end(input);
    let settled = false;
    const done = (code: number, why?: string): void => {
      if (settled) return;
      settled = true;
      mark(`find done (${label})`);
      resolve({ code, out: Buffer.concat(out), stderr: why ?? stderr });
    };
    child.on('error', (error: NodeJS.ErrnoException) => done(error.code === 'ENOENT' ? 127 : 126, error.message));
    child.on('close', (code) => done(code ?? 128));
  });
}
