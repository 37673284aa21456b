import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { PairPlan } from '../../plan/types.js';
import type { ResolvedPair } from '../../types.js';
import { formatCommand } from '../../exec/format.js';
import type { Command } from '../types.js';
import { BOOT, PATTERNS_MAX, withData } from './exact-files.js';
import { hf } from './index.js';

const pair = (path = ''): ResolvedPair => ({
  name: 'release', local: '/lab/models/release', root: '/lab', exclude: [],
  remote: { type: 'hf', repo: 'org/m', repoType: 'model', revision: 'main', path, create: false },
} as unknown as ResolvedPair);
const f = (path: string) => ({ path, size: 1, reason: 'missing' as const });
const plan = (send: string[], del: string[] = []): PairPlan => ({ send: send.map(f), replace: [], delete: del.map(f), sourceFiles: 0, destFiles: 0, sourceDigest: '', destDigest: '' });
const ctx = { stamp: '2026-12-06T08-00-00.000Z' } as Parameters<NonNullable<typeof hf.files>['transfer']>[3];
const transfer = (p: ResolvedPair, direction: 'push' | 'pull', pl: PairPlan) => (hf.files as NonNullable<typeof hf.files>).transfer(p, direction, pl, ctx);
const argBytes = (args: readonly string[]): number => args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);

describe('hf plans too large for patterns', () => {
  // 60k paths of ~50 bytes: ~3.6 MB as --include arguments, past the kernel's 2 MB for a command line (E2BIG).
  const paths = Array.from({ length: 60_000 }, (_, i) => `checkpoints/step-${String(i).padStart(6, '0')}/shard.safetensors`);

  it('a 60k-file push or pull starts with a short command line; the exact paths go on stdin, once each', () => {
    const push = transfer(pair('ckpt'), 'push', plan(paths.slice(0, 40_000), paths.slice(40_000))).send.at(-1);
    expect(argBytes(push?.args ?? [])).toBeLessThan(300);
    expect(push?.args).toEqual(['-c', BOOT, 'org/m', 'model', 'main']);
    expect(formatCommand(push as Command, (t) => t)).toMatch(/< \(script: one commit adding 40000 files, deleting 20000\)$/);
    const doc = JSON.parse(JSON.parse(/\nrun\((.*)\)\n$/.exec(push?.input ?? '')?.[1] ?? '""')) as { prefix: string; add: string[]; delete: string[] };
    expect(doc).toMatchObject({ prefix: 'ckpt/', add: paths.slice(0, 40_000), delete: paths.slice(40_000) });

    const pull = transfer(pair(), 'pull', plan(paths)).send[0];
    expect(argBytes(pull?.args ?? [])).toBeLessThan(300);
    expect(pull?.args).toEqual(['-c', BOOT, 'org/m', 'model', 'main', '/lab/models/release']);
    expect(formatCommand(pull as Command, (t) => t)).toMatch(/< \(script: 60000 files to download\)$/);
    expect(JSON.parse(JSON.parse(/\nrun\((.*)\)\n$/.exec(pull?.input ?? '')?.[1] ?? '""'))).toEqual(paths);
  });

  it(`up to ${PATTERNS_MAX} files keep the hf CLI with one literal pattern each`, () => {
    const few = paths.slice(0, PATTERNS_MAX);
    const push = transfer(pair(), 'push', plan(few)).send.at(-1);
    expect(push?.tool).toBe('hf');
    expect(push?.args.filter((a) => a.startsWith('--include='))).toHaveLength(PATTERNS_MAX);
    // One more: the script (on the hf install's Python; 'hf' where none is on PATH, which then fails as not installed).
    expect(transfer(pair(), 'pull', plan([...few, 'one more'])).send[0]?.args[0]).toBe('-c');
  });

  it('Python reads the data back byte for byte: quotes, backslashes, newlines, triple quotes, non-ASCII, control characters', () => {
    const awkward = ['a "q" b', 'back\\slash\\', 'line\nbreak', '"""', "'''", 'übung/模型.bin', 'tab\there', '\u0001ctl', 'end\\'];
    // Through the same start as the real scripts, in a locale that is not UTF-8 (Python's own reading would be ASCII there).
    const env = { ...process.env, LC_ALL: 'C', PYTHONUTF8: '0', PYTHONCOERCECLOCALE: '0' };
    const out = execFileSync('python3', ['-c', BOOT, 'arg'], { env, input: withData('import json\ndef run(doc):\n    print(json.dumps(json.loads(doc)))\n', awkward) }).toString();
    expect(JSON.parse(out)).toEqual(awkward);
  });
});
