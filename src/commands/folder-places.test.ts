import { mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderPlaces, walkLinks, type PlacesIo } from './folder-places.js';

describe('walkLinks', () => {
  it('names every link met as the kernel resolves the path (a chain, a link above another, `..` after one), and the first part missing', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'labsync-walk-')));
    mkdirSync(join(root, 'gpfs/runs/r1'), { recursive: true });
    symlinkSync(join(root, 'gpfs'), join(root, 'home'));
    symlinkSync('runs/current', join(root, 'gpfs/latest'));
    symlinkSync('r1', join(root, 'gpfs/runs/current'));
    const hops: (readonly [string, string])[] = [];
    await walkLinks(join(root, 'home/latest/ckpt'), hops);
    expect(hops).toEqual([[join(root, 'home'), join(root, 'gpfs')], [join(root, 'gpfs/latest'), 'runs/current'], [join(root, 'gpfs/runs/current'), 'r1'], [join(root, 'gpfs/runs/r1/ckpt'), '\0missing']]);
    const up: (readonly [string, string])[] = [];
    // home/.. is the parent of gpfs (root), as the kernel reads it.
    await walkLinks(`${join(root, 'home')}/../gpfs/runs`, up);
    expect(up).toEqual([[join(root, 'home'), join(root, 'gpfs')]]);
  });
});

describe('FolderPlaces on folders that never answer (a fake file system: no real mount can be made to answer some calls and not others)', () => {
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await tick();
  };
  /** Links (absolute targets), folders, and dead prefixes whose every call never settles; reads counted per path. */
  function fakeFs() {
    const links = new Map<string, string>();
    const dirs = new Set<string>();
    const dead = new Set<string>();
    const reads = new Map<string, number>();
    const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
    const isDead = (p: string): boolean => [...dead].some((d) => p === d || p.startsWith(`${d}/`));
    const follow = (p: string): string => {
      let out = '';
      for (const part of p.split('/').filter(Boolean)) {
        out = `${out}/${part}`;
        const t = links.get(out);
        if (t !== undefined) out = follow(t);
      }
      return out;
    };
    let hangPlace = false;
    const io: PlacesIo = {
      lstat: async (p) => {
        if (isDead(p)) return never();
        if (links.has(p)) return { isSymbolicLink: () => true };
        if (dirs.has(p)) return { isSymbolicLink: () => false };
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      },
      readlink: async (p) => {
        reads.set(p, (reads.get(p) ?? 0) + 1);
        if (isDead(p)) return never();
        const t = links.get(p);
        if (t === undefined) throw new Error('EINVAL');
        return t;
      },
      placeOf: async (pair) => {
        const real = follow(pair.local);
        if (hangPlace || isDead(real)) return never();
        return { local: real, top: real, id: '1' };
      },
    };
    return { io, links, dirs, dead, reads, hangPlaces: (on: boolean) => (hangPlace = on) };
  }

  it('reads a link on a mount that died after the walk passed it once, however often the question is sent again (review 66: a new stuck read every 20s took every thread)', async () => {
    const fs = fakeFs();
    for (const d of ['/gpfs', '/gpfs/home', '/gpfs/home/u']) fs.dirs.add(d);
    fs.links.set('/home', '/gpfs/home');
    fs.links.set('/gpfs/home/u/run', '/nfs2/run');
    fs.dead.add('/nfs2');
    const answers: number[] = [];
    const places = new FolderPlaces((n) => answers.push(n), 4, fs.io);
    const pair = { local: '/home/u/run', tool: 'rsync' } as const;
    places.ask(1, pair);
    await settle();
    fs.dead.add('/gpfs');
    for (let i = 0; i < 12; i++) {
      places.ask(1, pair);
      await settle();
    }
    expect(fs.reads.get('/gpfs/home/u/run')).toBe(2); // the walk's own, then one look that never returns
    expect(answers).toEqual([]);
  });

  it('answers once a link moved onto a dead mount and back leads where it did, its first place still out on the dead one (review 66: it waited on that place for good)', async () => {
    const fs = fakeFs();
    fs.dirs.add('/x');
    fs.links.set('/l', '/x');
    fs.dead.add('/y');
    const answers: [number, string][] = [];
    const places = new FolderPlaces((n, p) => answers.push([n, p.top]), 4, fs.io);
    const pair = { local: '/l', tool: 'rsync' } as const;
    // Its place is asked as the link moves to /y: that look hangs there.
    fs.hangPlaces(true);
    places.ask(1, pair);
    await settle();
    fs.hangPlaces(false);
    fs.links.set('/l', '/y');
    places.ask(1, pair);
    await settle();
    fs.links.set('/l', '/x');
    places.ask(1, pair);
    await settle();
    expect(answers).toEqual([[1, '/x']]);
  });
});
