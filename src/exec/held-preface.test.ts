// What a held session is given before the relayed rsync (the host's questions for after the transfer,
// engine/host-after.ts) reaches it ahead of rsync's stream; a session that stops reading is ended
// within the run's bound and rsync is not started (exec/held.ts). A local sh stands in for ssh here.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { holdSession, type Session } from './held.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

const MARK = Buffer.from('\0marked\n');

async function held(script: string): Promise<Session> {
  const got = await holdSession({ tool: 'sh', args: ['-c', script], cwd: tmpdir(), mutates: false, label: 'held test' }, MARK, { timeoutMs: 10_000 });
  if (!('listed' in got)) throw new Error(`no session: ${got.stderr}`);
  return got;
}

describe('a held session given a preface before the relayed command', () => {
  it('reads the preface before the line the relayed command writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labsync-preface-'));
    made.push(dir);
    // The "host": after its marker it keeps the first line it reads, then the next (the relay's).
    const s = await held(`printf 'listed\\0marked\\n'; IFS= read -r a; IFS= read -r b; printf '%s|%s' "$a" "$b" > '${join(dir, 'got')}'`);
    const { output, after } = await s.relay({ tool: 'sh', args: ['-c', 'printf "relayed\\n" >&4'], cwd: dir, mutates: true, label: 'relay' }, { timeoutMs: 10_000, redact: (t) => t }, Buffer.from('preface\n'));
    expect(output.exitCode).toBe(0);
    await after;
    expect(readFileSync(join(dir, 'got'), 'utf8')).toBe('preface|relayed');
  });

  it('a session that does not read the preface in the bound is ended; the relayed command is never started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labsync-preface-'));
    made.push(dir);
    const s = await held(`printf 'listed\\0marked\\n'; sleep 30`);
    // More than a pipe holds: the write cannot be taken while nobody reads.
    const big = Buffer.alloc(4 << 20, 0x61);
    const { output, after } = await s.relay({ tool: 'sh', args: ['-c', `touch '${join(dir, 'ran')}'`], cwd: dir, mutates: true, label: 'relay' }, { timeoutMs: 300, redact: (t) => t }, big);
    expect(output).toMatchObject({ timedOut: true, exitCode: 255 });
    expect(output.stderr).toContain('did not read');
    expect(await after).toBeUndefined();
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });
});
