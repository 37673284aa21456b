import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command } from '../adapters/types.js';
import { digestOf, endEarly, noteManifest, setStart, takeEarly, type EarlyChild, type Hint } from './early.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

const command = (args: string[], extra: Partial<Command> = {}): Command => ({ tool: 'ssh', args, cwd: '/lab', mutates: false, label: 'list', ...extra });

/** A child standing in for an early ssh: it waits on stdin, as the host's script waits for its go line. */
function waiting(args: string[]): EarlyChild {
  const child = spawn('sh', ['-c', 'read x; exit 0'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true }) as ChildProcessWithoutNullStreams;
  const ended = new Promise<{ code: number; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? 128, signal })));
  return { program: 'ssh', args, cwd: '/lab', child, errs: [], ended };
}

describe('ssh sessions started before the CLI loads', () => {
  it('hands over only the exact command, kills the rest at the end, and rewrites the hint only when the run opened others', async () => {
    const dir = tempDir('labsync-early-');
    const manifest = join(dir, 'labsync.yaml');
    writeFileSync(manifest, 'version: 1\n');
    const hintFile = join(dir, 'cache', 'session-x.json');
    const used = waiting(['host', 'list A']);
    const unused = waiting(['host', 'list B']);
    setStart({ hintFile, early: [used, unused] });
    noteManifest(manifest);
    // Another folder, another environment, other arguments: not the early one.
    expect(takeEarly('ssh', command(['host', 'list A'], { cwd: '/elsewhere' }))).toBeUndefined();
    expect(takeEarly('ssh', command(['host', 'list A'], { env: { X: '1' } }))).toBeUndefined();
    expect(takeEarly('ssh', command(['host', 'list A', 'more']))).toBeUndefined();
    expect(takeEarly('ssh', command(['host', 'list A']))).toBe(used);
    expect(takeEarly('ssh', command(['host', 'list A']))).toBeUndefined(); // taken once
    endEarly();
    expect((await unused.ended).signal).toBe('SIGKILL');
    used.child.stdin.end();
    expect((await used.ended).code).toBe(0);
    const hint = JSON.parse(readFileSync(hintFile, 'utf8')) as Hint;
    expect(hint.manifest).toBe(manifest);
    expect(hint.manifestDigest).toBe(digestOf(readFileSync(manifest)));
    // What the run opened, in order, each once (the env-bearing one is never a session bin/labsync.js could start).
    expect(hint.sessions.map((s) => [s.cwd, s.args.join(' ')])).toEqual([['/elsewhere', 'host list A'], ['/lab', 'host list A more'], ['/lab', 'host list A']]);

    // A month unused: the next hint written prunes it; one in use is touched instead.
    const old = join(dir, 'cache', 'session-old.json');
    writeFileSync(old, '{}');
    const monthAgo = new Date(Date.now() - 31 * 24 * 3600 * 1000);
    utimesSync(old, monthAgo, monthAgo);
    setStart({ hintFile: join(dir, 'cache', 'session-y.json'), early: [] });
    expect(takeEarly('ssh', command(['host', 'list C']))).toBeUndefined();
    endEarly();
    expect(existsSync(old)).toBe(false);
    expect(existsSync(join(dir, 'cache', 'session-y.json'))).toBe(true);
  });
});
