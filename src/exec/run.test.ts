import { readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { Command } from '../adapters/types.js';
import { run } from './run.js';

// 300 lines in 300 writes, ending in a line without its newline: what a transfer's progress looks like to run().
const SCRIPT = 'i=1; while [ $i -le 300 ]; do printf "line %s\\n" $i; i=$((i + 1)); done; printf tail';
const command: Command = { tool: 'sh', args: ['-c', SCRIPT], cwd: tmpdir(), mutates: false, label: 'sh' };
const expected = Array.from({ length: 300 }, (_, i) => `line ${i + 1}`);
const own = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith(`labsync-${process.pid}-`));

describe('run: a transfer\'s stdout read in pieces (stdoutEveryMs)', () => {
  const tmp = process.env.TMPDIR;
  afterEach(() => {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
  });

  it('hands on every line in order and keeps the whole stdout, as a pipe does; no file is left', async () => {
    const before = own();
    const seen: string[] = [];
    const out = await run(command, { redact: (t) => t, stdoutEveryMs: 25, onLine: (line, stream) => void (stream === 'stdout' && seen.push(line)) });
    const piped: string[] = [];
    const ref = await run(command, { redact: (t) => t, onLine: (line, stream) => void (stream === 'stdout' && piped.push(line)) });
    expect(out.exitCode).toBe(0);
    expect(seen).toEqual(expected);
    expect(piped).toEqual(expected);
    expect(out.stdout).toBe(ref.stdout);
    expect(out.stdout.endsWith('line 300\ntail')).toBe(true);
    expect(own()).toEqual(before);
  });

  it('the child writes into an unlinked file of its own, not a pipe', async () => {
    const outFiles = (): string[] => readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } }).filter((l) => /labsync-\d+-[0-9a-f]+\.out \(deleted\)$/.test(l));
    const before = outFiles().length;
    const running = run({ ...command, args: ['-c', 'sleep 0.3; echo done'] }, { redact: (t) => t, stdoutEveryMs: 25 });
    expect(outFiles().length).toBe(before + 1);
    expect((await running).stdout).toBe('done\n');
    expect(outFiles().length).toBe(before);
  });

  it('where no temporary file can be made, reads the pipe as before', async () => {
    process.env.TMPDIR = '/nonexistent/labsync-run-test';
    const seen: string[] = [];
    const out = await run(command, { redact: (t) => t, stdoutEveryMs: 25, onLine: (line) => void seen.push(line) });
    expect(out.exitCode).toBe(0);
    expect(seen).toEqual(expected);
  });

  it('a program that cannot start still answers (127), with nothing read', async () => {
    const out = await run({ ...command, tool: 'labsync-no-such-program' }, { redact: (t) => t, stdoutEveryMs: 25 });
    expect(out.exitCode).toBe(127);
    expect(out.stdout).toBe('');
  });
});
