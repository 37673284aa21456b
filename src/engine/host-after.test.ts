// The host's listing after a transfer, patched from its listing before with what the host answers
// (host-after.ts, adapters/rsync/held-after.ts), must be byte for byte what a whole find on the host
// prints then. The held session's host script runs here under a local sh, with the real find; the
// transfer is a real rsync of exactly the planned files (as labsync's --files-from), then the deletions.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { afterMark, answersAfter, goLine, heldScript, listedMark, touchMark } from '../adapters/rsync/held.js';
import { parseAnswers, touchLines } from '../adapters/rsync/held-after.js';
import { parseRemoteListing } from '../adapters/rsync/remote.js';
import type { RemoteListing } from '../adapters/types.js';
import { findArgv } from '../verify/find-list.js';
import { askAfter, entriesAtLeast, type AfterAsk } from './host-after.js';
import { oldTree, writeOld } from '../verify/old-tree.fixture.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}, 60_000); // the 10,000-entry folder's trees

const EXCLUDES = ['*.tmp', '/.labsync-backup/'];
const TOKEN = 'ab12';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'labsync-host-after-'));
  made.push(root);
  return oldTree(root, files);
}

const write = writeOld;

const wholeFind = (root: string): Buffer => {
  const [cmd, ...args] = findArgv(EXCLUDES, { links: true });
  return execFileSync(cmd, args, { cwd: root, maxBuffer: 1 << 28 });
};

interface Plan { send?: string[]; replace?: string[]; delete?: string[] }
const planOf = (p: Plan) => ({ send: (p.send ?? []).map((path) => ({ path, size: 1 })), replace: (p.replace ?? []).map((path) => ({ path, size: 1 })), delete: (p.delete ?? []).map((path) => ({ path, size: 1 })) }) as never;

/**
 * The held session's host script run by sh on `dst`: its listing before; then `change` (the transfer),
 * the questions askAfter found for `plan` written before the transfer's line, and the host's stderr
 * after it. `env`: the host's environment (a PATH with another find, a TMPDIR).
 */
async function session(dst: string, plan: Plan, change: () => void, env: NodeJS.ProcessEnv = process.env): Promise<{ ask?: AfterAsk; stderr: Buffer; before: RemoteListing }> {
  const child = spawn('sh', ['-c', heldScript(dst, EXCLUDES)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const closed = new Promise((resolve) => child.on('close', resolve));
  // A host that can take the questions ends its listing with touchMark (this machine's GNU head), any other with listedMark.
  const marks = [listedMark(TOKEN), touchMark(TOKEN)];
  const listed = new Promise<Buffer>((resolve) => child.stdout.on('data', (b: Buffer) => {
    out.push(b);
    const all = Buffer.concat(out);
    const mark = marks.find((m) => all.length >= m.length && all.subarray(-m.length).equals(m));
    if (mark) resolve(all.subarray(0, all.length - mark.length));
  }));
  child.stdin.write(goLine(TOKEN, 0));
  const before = parseRemoteListing(await listed, EXCLUDES);
  if (!('raw' in before)) throw new Error('no listing before');
  const ask = await askAfter(EXCLUDES, { missing: false, raw: () => before.raw, nowMs: before.nowMs }, planOf(plan), false);
  change();
  child.stdin.end(Buffer.concat([ask ? touchLines(ask.q) : Buffer.alloc(0), Buffer.from('labsync-run true\n')]));
  await closed;
  return { ...(ask ? { ask } : {}), stderr: Buffer.concat(err), before };
}

/** A copy of `files` at the host made by rsync, and its source. */
function pair(files: Record<string, string>): { src: string; dst: string } {
  const src = tree(files);
  const dst = tree({});
  execFileSync('rsync', ['-a', `${src}/`, `${dst}/`]);
  return { src, dst };
}

/** rsync of exactly `paths` (as labsync sends a plan), then the deletions. */
function transfer(src: string, dst: string, paths: readonly string[], del: readonly string[] = []): void {
  if (paths.length) execFileSync('rsync', ['-a', '--files-from=-', `${src}/`, `${dst}/`], { input: paths.map((p) => `${p}\n`).join('') });
  for (const p of del) rmSync(join(dst, p), { recursive: true, force: true });
}

/** The patched listing after a session over `plan`, checked against the whole find byte for byte. */
async function expectAsFind(src: string, dst: string, plan: Plan, between: () => void = () => undefined): Promise<{ paths: string[] }> {
  const s = await session(dst, plan, () => {
    between();
    transfer(src, dst, [...(plan.send ?? []), ...(plan.replace ?? [])], plan.delete);
  });
  expect(s.ask).toBeDefined();
  const answers = answersAfter(s.stderr, TOKEN, (s.ask as AfterAsk).q);
  expect(answers).not.toBe('whole');
  expect(answers).toBeDefined();
  const got = await (s.ask as AfterAsk).patch(answers as never);
  expect(got).toBeDefined();
  type Tree = { raw: Buffer; rawDigest: string; paths: string[] };
  const whole = parseRemoteListing(Buffer.concat([Buffer.from('labsync list 1.0\n'), wholeFind(dst)]), EXCLUDES) as unknown as Tree;
  const patched = got as unknown as Tree;
  expect(patched.raw.toString('latin1')).toBe(whole.raw.toString('latin1'));
  expect(patched.rawDigest).toBe(whole.rawDigest);
  expect(patched.paths).toEqual(whole.paths);
  return patched;
}

const files = (): Record<string, string> => {
  const out: Record<string, string> = { 'top.bin': 'top\n', 'a b/x y.bin': 'spaces\n' };
  for (let d = 0; d < 6; d++) for (let f = 0; f < 30; f++) out[`d${d}/f${f}.bin`] = `${d}/${f}\n`;
  for (let f = 0; f < 5; f++) out[`d2/deep/er/g${f}.bin`] = `deep ${f}\n`;
  return out;
};

describe('the host\'s listing after a transfer, patched from what it answers', () => {
  it('is byte for byte a whole find\'s after a changed file, a new one, a deleted one and a new file in a new folder', async () => {
    const { src, dst } = pair(files());
    write(src, 'd1/f3.bin', 'changed, longer\n');
    write(src, 'd4/new.bin', 'new\n');
    write(src, 'd5/fresh/sub/n.bin', 'in a new folder\n');
    write(src, 'd2/deep/er/g1.bin', 'deep changed\n');
    await expectAsFind(src, dst, { replace: ['d1/f3.bin', 'd2/deep/er/g1.bin'], send: ['d4/new.bin', 'd5/fresh/sub/n.bin'], delete: ['d0/f7.bin'] });
  });

  it('rewrites a replaced file\'s record in place and drops a deleted one\'s, at the top too: no folder listed', async () => {
    const { src, dst } = pair(files());
    write(src, 'top.bin', 'top, changed\n');
    write(src, 'd3/f0.bin', 'changed\n');
    const s = await expectAsFind(src, dst, { replace: ['top.bin', 'd3/f0.bin'], delete: ['d5/f29.bin', 'a b/x y.bin'] });
    expect(s.paths).not.toContain('d5/f29.bin');
  });

  it('drops a folder the transfer deleted whole, and lists a nested new folder from the nearest one listed', async () => {
    const { src, dst } = pair(files());
    write(src, 'd2/deep/new/er/n.bin', 'nested\n');
    const gone = Array.from({ length: 30 }, (_, f) => `d4/f${f}.bin`);
    // The deletion names the folder (labsync deletes the topmost folder the source lacks): it goes whole.
    await expectAsFind(src, dst, { send: ['d2/deep/new/er/n.bin'], delete: gone }, () => rmSync(join(dst, 'd4'), { recursive: true }));
  });

  it('odd names: spaces, unicode, a leading dash, an option\'s name, the answers\' own marker', async () => {
    const odd = { ...files(), '-x/-files0-from': 'dash\n', 'ü ñ/日本 語.bin': 'unicode\n', 'labsync-part/labsync-part': 'marker\n', 'd1/ leading space': 'space\n' };
    const { src, dst } = pair(odd);
    for (const p of Object.keys(odd).filter((k) => !k.startsWith('d0') && !k.startsWith('d2') && !k.startsWith('d3'))) write(src, p, `${odd[p as keyof typeof odd]} changed\n`);
    write(src, '-x/--new', 'new\n');
    write(src, 'labsync-part/x/labsync-part 0', 'new\n');
    const replace = Object.keys(odd).filter((k) => !k.startsWith('d0') && !k.startsWith('d2') && !k.startsWith('d3') && k !== 'top.bin' && k !== 'a b/x y.bin');
    await expectAsFind(src, dst, { replace, send: ['-x/--new', 'labsync-part/x/labsync-part 0'], delete: ['d0/f1.bin'] });
  });

  it('lists again a folder of more than 10,000 entries where a file was replaced (find lists it by inode): as find prints it', async () => {
    const many: Record<string, string> = { 'small/a': 'a\n' };
    for (let i = 0; i < 10_050; i++) many[`big/f${i}`] = `${i}\n`;
    const { src, dst } = pair(many);
    write(src, 'big/f17', 'replaced\n');
    write(src, 'small/a', 'replaced too\n');
    await expectAsFind(src, dst, { replace: ['big/f17', 'small/a'] });
  }, 60_000);

  it('counts a folder\'s entries from the listing as find would at least (its files and its folders with files)', () => {
    const raw = Buffer.from(['1 1.0 1.0 1 a/x', '1 1.0 1.0 2 a/y', '1 1.0 1.0 3 a/s/z', '1 1.0 1.0 4 a/s/w', '1 1.0 1.0 5 a/t/u/v', '1 1.0 1.0 6 b/x', '1 1.0 1.0 7 top', ''].join('\0'));
    expect(entriesAtLeast([raw], 'a')).toBe(4);
    expect(entriesAtLeast([raw], 'a/s')).toBe(2);
    expect(entriesAtLeast([raw], '')).toBe(3);
    expect(entriesAtLeast([raw], 'none')).toBe(0);
  });

  it('asks nothing (the host lists whole) for a new file at the tree\'s top, past 20,000 paths, a missing or --full host, or LABSYNC_AFTER=whole', async () => {
    const { dst } = pair(files());
    const s = await session(dst, { send: ['new-at-top'] }, () => write(dst, 'new-at-top', 'x'));
    expect(s.ask).toBeUndefined();
    // Asked nothing: the host listed whole, as before.
    expect(s.stderr.toString('latin1')).toMatch(/labsync-after ab12 0\nlabsync list /);
    const raw = s.before as RemoteListing & { raw: Buffer };
    const side = { missing: false, raw: () => raw.raw, nowMs: 0 };
    expect(await askAfter(EXCLUDES, side, planOf({ send: Array.from({ length: 20_001 }, (_, i) => `d1/n${i}`) }), false)).toBeUndefined();
    expect(await askAfter(EXCLUDES, side, planOf({ replace: ['d1/f1.bin'] }), true)).toBeUndefined();
    expect(await askAfter(EXCLUDES, { ...side, missing: true }, planOf({ replace: ['d1/f1.bin'] }), false)).toBeUndefined();
    process.env.LABSYNC_AFTER = 'whole';
    try {
      expect(await askAfter(EXCLUDES, side, planOf({ replace: ['d1/f1.bin'] }), false)).toBeUndefined();
    } finally {
      delete process.env.LABSYNC_AFTER;
    }
    expect(await askAfter(EXCLUDES, side, planOf({ replace: ['d1/f1.bin'] }), false)).toBeDefined();
  });

  it('a host whose find takes no -files0-from, or with no temporary folder: it reads the questions off and lists whole', async () => {
    const { src, dst } = pair(files());
    write(src, 'd1/f3.bin', 'changed\n');
    const bin = tree({});
    const real = execFileSync('sh', ['-c', 'command -v find']).toString().trim();
    writeFileSync(join(bin, 'find'), `#!/bin/sh\ncase " $* " in *" -files0-from "*) echo "find: unknown predicate \\\`-files0-from'" >&2; exit 1 ;; esac\nexec ${real} "$@"\n`);
    chmodSync(join(bin, 'find'), 0o755);
    for (const env of [{ ...process.env, PATH: `${bin}:${process.env.PATH}` }, { ...process.env, TMPDIR: join(bin, 'none') }]) {
      const s = await session(dst, { replace: ['d1/f3.bin'] }, () => transfer(src, dst, ['d1/f3.bin']), env);
      expect(s.ask).toBeDefined();
      expect(answersAfter(s.stderr, TOKEN, (s.ask as AfterAsk).q)).toBe('whole');
      const m = afterMark(TOKEN).exec(s.stderr.toString('latin1'));
      const whole = parseRemoteListing(s.stderr.subarray((m?.index ?? 0) + (m?.[0].length ?? 0)), EXCLUDES) as RemoteListing & { raw: Buffer };
      expect(whole.raw.equals(wholeFind(dst))).toBe(true);
    }
  });

  it('the host\'s tree not as the plan made it (a replaced file is a folder now): the patch gives up, the host is listed whole', async () => {
    const { dst } = pair(files());
    const s = await session(dst, { replace: ['d1/f3.bin'] }, () => {
      rmSync(join(dst, 'd1/f3.bin'));
      write(dst, 'd1/f3.bin/inside', 'x');
    });
    const answers = answersAfter(s.stderr, TOKEN, (s.ask as AfterAsk).q);
    expect(answers).not.toBe('whole');
    expect(answers).toBeDefined();
    expect(await (s.ask as AfterAsk).patch(answers as never)).toBeUndefined();
  });

  it('a questions line not of its shape, or lists cut short, end the session: the transfer\'s line is never run', () => {
    const dir = tree({ f: 'x' });
    const ran = join(dir, 'ran');
    for (const bad of ['labsync-touch 1 x 0\n', 'labsync-touch 1\n', 'labsync-touch 5 0 0\nab', 'labsync-touch -1 0 0\n']) {
      const r = spawnSync('sh', ['-c', heldScript(dir, [])], { input: `${goLine(TOKEN, 0)}${bad}labsync-run touch ${ran}\n` });
      expect(r.status, bad).toBe(0);
      expect(existsSync(ran), bad).toBe(false);
      expect(r.stderr.toString(), bad).not.toContain('labsync-after');
    }
    // A login environment that happens to set the script's own variable asks for no answers: the host lists whole.
    const leaked = spawnSync('sh', ['-c', heldScript(dir, [])], { input: `${goLine(TOKEN, 0)}labsync-run true\n`, env: { ...process.env, lsp: '1' } });
    expect(leaked.stderr.toString()).toMatch(new RegExp(`labsync-after ${TOKEN} 0\nlabsync list `));
    // Empty lists: the transfer runs and the host answers (nothing) instead of listing.
    const ok = spawnSync('sh', ['-c', heldScript(dir, [])], { input: Buffer.concat([Buffer.from(goLine(TOKEN, 0)), touchLines({ paths: [], counts: [], lists: [] }), Buffer.from(`labsync-run touch ${ran}\n`)]) });
    expect(existsSync(ran)).toBe(true);
    expect(answersAfter(ok.stderr, TOKEN, { paths: [], counts: [], lists: [] })).toEqual({ kinds: new Map(), counts: new Map(), lists: new Map() });
  });

  it('answers not of their shape, or a folder listing that failed, are none', () => {
    const q = { paths: ['a'], counts: ['d'], lists: ['d'] };
    const ok = Buffer.from('3 1.0 1.0 9 a\0labsync-part\0n d\0n d\0labsync-part\x001 1.0 1.0 8 d/x\0labsync-part 0\0');
    expect(parseAnswers(ok, q)?.lists.get('d')?.toString()).toBe('1 1.0 1.0 8 d/x\0');
    expect(parseAnswers(ok, q)?.counts.get('d')).toBe(2);
    expect(parseAnswers(ok, q)?.kinds.get('a')?.toString()).toBe('3 1.0 1.0 9 a\0');
    // An entry counted for a folder not asked.
    expect(parseAnswers(Buffer.from(ok.toString('latin1').replace('n d\0n d', 'n d\0n e'), 'latin1'), q)).toBeUndefined();
    expect(parseAnswers(Buffer.from(ok.toString('latin1').replace('part 0', 'part 1'), 'latin1'), q)).toBeUndefined();
    expect(parseAnswers(Buffer.from(ok.toString('latin1').replace(' a\0', ' b\0'), 'latin1'), q)).toBeUndefined();
    expect(parseAnswers(Buffer.from('garbage'), q)).toBeUndefined();
    expect(parseAnswers(Buffer.from('3 1.0 1.0 9 a\0labsync-part 0\0'), q)).toBeUndefined();
    // A listing record outside the folders asked.
    expect(parseAnswers(Buffer.from(ok.toString('latin1').replace('d/x', 'e/x'), 'latin1'), q)).toBeUndefined();
  });
});
