import { describe, expect, it } from 'vitest';
import { loadManifestText } from './load.js';
import { nestedRefusal } from './nested-pairs.js';

const load = (pairs: string): unknown => loadManifestText(`version: 1\nremotes:\n  nas: { type: local, path: /nas }\ndata:\n${pairs}`, '/lab/labsync.yaml', {}, '/lab');

describe('a mirror whose folder holds another pair\'s folder', () => {
  const nested = (pairs: string): unknown => (load(pairs) as { pairs: { name: string; nestedPairs?: string[] }[] }).pairs.map((p) => [p.name, p.nestedPairs ?? []]);
  it('names the inner pair on the mirror (its pull is refused at run time, run-pair.ts); the manifest still loads', () => {
    expect(nested('  - { name: outer, local: data, remote: "nas:data", delete: true }\n  - { name: inner, local: data/ckpt, remote: "nas:ckpt" }\n')).toEqual([['outer', ['data.inner (ckpt/)']], ['inner', []]]);
    expect(nestedRefusal(['data.inner (ckpt/)'])).toMatch(/a mirror pull would delete its files and backups; nothing was changed\. Add exclude: \["\/ckpt\/"\]/);
  });
  it('nothing where an exclude leaves the folder out in any usual form, without delete: true, or for folders side by side', () => {
    for (const ex of ['/ckpt/', 'ckpt/', '/ckpt', 'ckpt', '/ckpt/**', 'ckpt/***', '/ckpt/*', '**/ckpt', '**/ckpt/', 'ck*']) {
      expect(nested(`  - { name: outer, local: data, remote: "nas:data", delete: true, exclude: ["${ex}"] }\n  - { name: inner, local: data/ckpt, remote: "nas:ckpt" }\n`), ex).toEqual([['outer', []], ['inner', []]]);
    }
    // An exclude of a folder above it, or of its name at any depth.
    expect(nested('  - { name: outer, local: ., remote: "nas:tree", delete: true, exclude: ["/data/", ".git/", "/labsync.yaml"] }\n  - { name: inner, local: data/raw, remote: "nas:raw" }\n')).toEqual([['outer', []], ['inner', []]]);
    expect(nested('  - { name: outer, local: ., remote: "nas:tree", delete: true, exclude: ["raw/", ".git/", "/labsync.yaml"] }\n  - { name: inner, local: data/raw, remote: "nas:raw" }\n')).toEqual([['outer', []], ['inner', []]]);
    expect(nested('  - { name: outer, local: data, remote: "nas:data" }\n  - { name: inner, local: data/ckpt, remote: "nas:ckpt" }\n')).toEqual([['outer', []], ['inner', []]]);
    expect(nested('  - { name: a, local: data/a, remote: "nas:a", delete: true }\n  - { name: b, local: data/ab, remote: "nas:ab" }\n')).toEqual([['a', []], ['b', []]]);
  });
  it('an exclude that the matcher does not read as that folder leaves it named (review 40: ./ckpt/ excludes nothing, and the pull deleted the inner pair\'s files)', () => {
    for (const ex of ['./ckpt/', './/ckpt', '*/ckpt', 'ckpt/*.pt', '/other/']) {
      expect(nested(`  - { name: outer, local: data, remote: "nas:data", delete: true, exclude: ["${ex}"] }\n  - { name: inner, local: data/ckpt, remote: "nas:ckpt" }\n`), ex).toEqual([['outer', ['data.inner (ckpt/)']], ['inner', []]]);
    }
    expect(nestedRefusal(['data.a (x/)', 'data.b (y/z/)'])).toMatch(/Add exclude: \["\/x\/", "\/y\/z\/"\]/);
  });
});

describe('a mirror whose folder holds the manifest\'s own folder (local: .)', () => {
  const nested = (pairs: string): unknown => (load(pairs) as { pairs: { name: string; nestedPairs?: string[] }[] }).pairs.map((p) => [p.name, p.nestedPairs ?? []]);
  it('names the manifest and the clone\'s .git, which its pull would delete (review 41), until excluded', () => {
    expect(nested('  - { name: all, local: ., remote: "nas:all", delete: true }\n')).toEqual([['all', ["the clone's .git (.git/)", 'the manifest (labsync.yaml)']]]);
    expect(nestedRefusal(["the clone's .git (.git/)", 'the manifest (labsync.yaml)'])).toMatch(/holds the clone's \.git \(\.git\/\), the manifest \(labsync\.yaml\): a mirror pull would delete them; nothing was changed\. Add exclude: \["\.git\/", "\/labsync\.yaml"\]/);
    expect(nested('  - { name: all, local: ., remote: "nas:all", delete: true, exclude: [".git/", "/labsync.yaml"] }\n')).toEqual([['all', []]]);
    expect(nested('  - { name: sub, local: data, remote: "nas:all", delete: true }\n')).toEqual([['sub', []]]);
    // A manifest in a subfolder of the clone (review 45): .git at the pair's top is asked for too.
    const sub = (ex: string): unknown => (loadManifestText(`version: 1\nremotes:\n  nas: { type: local, path: /nas }\ndata:\n  - { name: all, local: .., remote: "nas:all", delete: true, exclude: [${ex}] }\n`, '/repo/config/labsync.yaml', {}, '/repo') as unknown as { pairs: { nestedPairs?: string[] }[] }).pairs[0]?.nestedPairs ?? [];
    expect(sub('"/config/.git/", "/config/labsync.yaml"')).toEqual(["the clone's .git (.git/)"]);
    expect(sub('".git/", "/config/labsync.yaml"')).toEqual([]);
  });
});

describe('a code pair\'s name', () => {
  const code = (name: string): unknown => loadManifestText(`version: 1\ncode:\n  - { name: "${name}", local: ., remote: /git/origin.git, branch: main }\n`, '/lab/labsync.yaml', {}, '/lab');
  it('that git refuses as a ref component is a manifest error naming it (every fetch into refs/labsync/<name> failed)', () => {
    for (const bad of ['x.lock', 'a..b', 'end.', '.hidden']) expect(() => code(bad), bad).toThrow(/a code pair's name is part of a git ref/);
    expect(() => code('repo-1')).not.toThrow();
  });
});

describe('nested through links (nestedThroughLinks, realFolder)', () => {
  it('finds a pair whose folder reaches into a mirror\'s only through a link, in either direction, and not one excluded or side by side', async () => {
    const { mkdtempSync, mkdirSync, symlinkSync, realpathSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { nestedThroughLinks, realFolder, realFolders } = await import('./nested-pairs.js');
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'labsync-nested-')));
    mkdirSync(join(root, 'data/ckpt'), { recursive: true });
    mkdirSync(join(root, 'store/part'), { recursive: true });
    symlinkSync('data/ckpt', join(root, 'ckpt'));
    symlinkSync('store', join(root, 'big'));
    const pairs = (loadManifestText(`version: 1\nremotes:\n  nas: { type: local, path: /nas }\ndata:\n  - { name: outer, local: data, remote: "nas:data", delete: true }\n  - { name: inner, local: ckpt, remote: "nas:ckpt" }\n  - { name: big, local: big, remote: "nas:big", delete: true, exclude: ["/part/"] }\n  - { name: part, local: store/part, remote: "nas:part" }\n  - { name: later, local: ckpt/not-yet, remote: "nas:later" }\n`, join(root, 'labsync.yaml'), {}, root) as { pairs: Parameters<typeof nestedThroughLinks>[1] }).pairs;
    const [outer, , big] = pairs as [Parameters<typeof nestedThroughLinks>[0], unknown, Parameters<typeof nestedThroughLinks>[0]];
    // A folder not made yet is placed through its nearest folder that is.
    expect(realFolder(join(root, 'ckpt/not-yet'))).toBe(join(root, 'data/ckpt/not-yet'));
    const real = await realFolders(pairs.map((p) => p.local));
    expect(real.get(join(root, 'ckpt/not-yet'))).toBe(join(root, 'data/ckpt/not-yet'));
    expect(nestedThroughLinks(outer, pairs, real)).toEqual(['data.inner (ckpt/)', 'data.later (ckpt/not-yet/)']);
    // big is store through its link, and excludes part/.
    expect(nestedThroughLinks(big, pairs, real)).toEqual([]);
    // A folder that did not answer is named, and the refusal says no exclude can help.
    const silent = nestedThroughLinks(outer, pairs, new Map([...real, [join(root, 'ckpt'), undefined]]));
    expect(silent).toContain(`the folder that did not answer: that of data.inner (${join(root, 'ckpt')})`);
    expect(nestedRefusal(silent.filter((n) => n.startsWith('the folder')))).toMatch(/^a folder did not answer within 5s .*; nothing was changed\. Run it again once the folder answers$/);
    // As written, nothing is nested (nestedUncovered's view, which the manifest cache keeps).
    expect(pairs.map((p) => p.nestedPairs ?? [])).toEqual([[], [], [], [], []]);
  });

  it('reads a path as the kernel does and the mirror\'s links inside it (review 63): a pair written inside but excluded that leads elsewhere in the folder through a link, `link/..`, and a folder named `..cache`', async () => {
    const { mkdtempSync, mkdirSync, symlinkSync, realpathSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { nestedThroughLinks, realFolders } = await import('./nested-pairs.js');
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'labsync-nested-')));
    mkdirSync(join(root, 'data/runs/r1/ckpt'), { recursive: true });
    mkdirSync(join(root, 'data/..cache'), { recursive: true });
    mkdirSync(join(root, 'elsewhere/sub'), { recursive: true });
    symlinkSync('runs/r1', join(root, 'data/latest'));
    symlinkSync(join(root, 'data/runs'), join(root, 'elsewhere/up'));
    const pairs = (loadManifestText(`version: 1\nremotes:\n  nas: { type: local, path: /nas }\ndata:\n  - { name: outer, local: data, remote: "nas:data", delete: true, exclude: ["/latest/ckpt/"] }\n  - { name: inner, local: data/latest/ckpt, remote: "nas:ckpt" }\n  - { name: dots, local: ${root}/elsewhere/up/../r2, remote: "nas:r2" }\n  - { name: cache, local: data/..cache, remote: "nas:cache" }\n`, join(root, 'labsync.yaml'), {}, root) as { pairs: Parameters<typeof nestedThroughLinks>[1] }).pairs;
    const real = await realFolders(pairs.map((p) => p.local));
    // up/.. is data (the link's target's parent), so r2 lies in the mirror: as the kernel and rsync read it.
    expect(real.get(`${root}/elsewhere/up/../r2`)).toBe(join(root, 'data/r2'));
    expect(nestedThroughLinks(pairs[0] as Parameters<typeof nestedThroughLinks>[0], pairs, real)).toEqual(['data.inner (runs/r1/ckpt/)', 'data.dots (r2/)']);
    // ..cache is inside as written: the manifest's own check names it.
    expect(pairs[0]?.nestedPairs).toEqual(['data.cache (..cache/)']);
  });
});
describe('realFolders where realpath is not GNU coreutils', () => {
  it('resolves in this process where realpath refuses -m or reads it as a name (stand-in scripts printing macOS\'s usage error, busybox\'s answer and error), calls a folder that failed (EIO) no answer, and asks no more once the run is stopped', async () => {
    const { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { realFolders } = await import('./nested-pairs.js');
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'labsync-realpath-')));
    const bin = join(root, 'bin');
    mkdirSync(bin);
    const path = process.env.PATH;
    const stand = (script: string): void => {
      writeFileSync(join(bin, 'realpath'), `#!/bin/sh\n${script}\n`);
      chmodSync(join(bin, 'realpath'), 0o755);
    };
    try {
      process.env.PATH = `${bin}:${path}`;
      stand("echo 'realpath: illegal option -- m' >&2; echo 'usage: realpath [-q] [path ...]' >&2; exit 1");
      expect(await realFolders([join(root, 'bin')])).toEqual(new Map([[join(root, 'bin'), bin]]));
      // busybox, which reads -m, -z and -- as names: its answer has no NUL, or its error names -m.
      stand('for p; do echo "$p"; done');
      expect(await realFolders([join(root, 'bin')])).toEqual(new Map([[join(root, 'bin'), bin]]));
      stand("echo 'realpath: -m: No such file or directory' >&2; exit 1");
      expect(await realFolders([join(root, 'bin')])).toEqual(new Map([[join(root, 'bin'), bin]]));
      // busybox waiting on a dead folder after its error about -m: killed by the bound, no answer.
      stand("echo 'realpath: -m: No such file or directory' >&2; sleep 5");
      expect(await realFolders([join(root, 'bin')], 300)).toEqual(new Map([[join(root, 'bin'), undefined]]));
      // A run stopped while folders hang: the children out are killed, no further one is started.
      const log = join(root, 'started');
      stand(`echo "$$ $4" >> '${log}'; exec sleep 30`);
      const stop = new AbortController();
      // One listener on the run's signal, not one per child (past ten, node warns of a leak on stderr).
      const warnings: string[] = [];
      const onWarning = (w: Error): void => void warnings.push(w.name);
      process.on('warning', onWarning);
      const many = Array.from({ length: 40 }, (_, i) => join(root, `dead-${i}`));
      const answer = realFolders(many, 20_000, stop.signal);
      const started = (): number => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').length - 1 : 0);
      while (started() < 16) await new Promise((r) => setTimeout(r, 20));
      stop.abort();
      expect([...(await answer).values()]).toEqual(many.map(() => undefined));
      expect(started()).toBe(16);
      // Killed, not left to their 30 s: each is soon gone or a zombie (killed, not yet reaped); a kill
      // lands when the process is next scheduled, hence the wait.
      const pids = readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' ')[0]);
      const alive = (pid: string | undefined): boolean => {
        try {
          return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        } catch {
          return false;
        }
      };
      for (let waited = 0; pids.some(alive) && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      expect(pids.filter(alive)).toEqual([]);
      process.off('warning', onWarning);
      expect(warnings).toEqual([]);
      // A folder answered "no GNU realpath here" before the stop is not resolved in this process after it.
      stand(`case "$4" in *slow*) exec sleep 30 ;; esac; echo 'usage: realpath [-q] [path ...]' >&2; exit 1`);
      const late = new AbortController();
      const mixed = realFolders([join(root, 'bin'), join(root, 'slow')], 20_000, late.signal);
      await new Promise((r) => setTimeout(r, 300));
      late.abort();
      expect(await mixed).toEqual(new Map([[join(root, 'bin'), undefined], [join(root, 'slow'), undefined]]));
      expect(await realFolders([join(root, 'bin')], 20_000, stop.signal)).toEqual(new Map([[join(root, 'bin'), undefined]]));
      expect(started()).toBe(16);
      // GNU's message names the path: one named like the usage line is still a failure of the folder.
      stand('echo "realpath: $4: Input/output error" >&2; exit 1');
      expect(await realFolders([join(root, 'usage: x')])).toEqual(new Map([[join(root, 'usage: x'), undefined]]));
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('a local remote inside its own pair\'s folder', () => {
  it('is named when the folder it lies in starts with two dots (`..cache` is inside, not above)', () => {
    expect(() => loadManifestText('version: 1\nremotes:\n  here: { type: local, path: /lab/data/..cache }\ndata:\n  - { name: raw, local: data, remote: "here:" }\n', '/lab/labsync.yaml', {}, '/lab')).toThrow(/is inside this pair's folder/);
  });
});
