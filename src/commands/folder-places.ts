// Where each pair's watch looks, answered by the looks helper (folder-answers.ts), or in watch's own
// process where the helper cannot run (folder-asker.ts). A folder whose network file system stopped
// answering holds one thread here however often it is asked: a question asked again while one is out (the
// asker re-sends it every STALE_MS) looks again only at the links met on the pair folder's path, which lie
// on file systems that answered, and asks the place anew only if one leads elsewhere now. Review 62: a
// new question per ask, three at most per pair, had taken three threads per dead folder, and a link
// re-pointed off the dead mount after the third was never followed.
import { lstat, readlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, parse, sep } from 'node:path';
import type { ResolvedPair } from '../types.js';
import { placeOf } from './watch-filter.js';

/** `local`: the pair's folder, links resolved; `top`: the folder subscribed to; `id`: which folder is there (undefined: none). */
export interface Place {
  readonly local: string;
  readonly top: string;
  readonly id: string | undefined;
  /** A dvc pair's repository (watch-filter.ts placeOf); none found, or not a dvc pair: absent. */
  readonly repo?: string;
}

export type PairFolder = Pick<ResolvedPair, 'local' | 'tool'>;

/** The file system as the walks ask it (a unit test gives folders that never answer). */
export interface PlacesIo {
  lstat(path: string): Promise<{ isSymbolicLink(): boolean }>;
  readlink(path: string): Promise<string>;
  placeOf(pair: PairFolder & { readonly written?: string }): Promise<Place>;
}
const REAL_IO: PlacesIo = { lstat, readlink, placeOf };

/** A symlink met on the path and where it led (or a part found missing: MISSING). */
type Hop = readonly [path: string, target: string];
const MISSING = '\0missing';
const UNREADABLE = '\0unreadable';

/**
 * The symlinks met resolving `local` as the kernel does (`..` after a link is above its target), each
 * with its target, pushed onto `hops` as they are found: a walk that hangs on a dead mount keeps those
 * before it. Ends at the first part missing. Each step is an lstat, or a readlink, of one path part.
 * Returns the path resolved (undefined: a part missing, or a link not read).
 */
export async function walkLinks(local: string, hops: Hop[], io: PlacesIo = REAL_IO): Promise<string | undefined> {
  // Not resolve(): it drops `x/..` as text, the kernel after following x.
  const abs = isAbsolute(local) ? local : `${process.cwd()}${sep}${local}`;
  let at = parse(abs).root;
  const todo = abs.slice(at.length).split(sep).filter(Boolean);
  for (let links = 0; todo.length; ) {
    const part = todo.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      at = dirname(at);
      continue;
    }
    const next = join(at, part);
    const st = await io.lstat(next).catch(() => undefined);
    if (!st) {
      hops.push([next, MISSING]);
      return undefined;
    }
    if (st.isSymbolicLink() && links++ < 40) {
      const target = await io.readlink(next).catch(() => UNREADABLE);
      hops.push([next, target]);
      // Not read (an I/O error, replaced meanwhile): where the path goes on is not known.
      if (target === UNREADABLE) return undefined;
      if (isAbsolute(target)) at = parse(target).root;
      todo.unshift(...target.slice(isAbsolute(target) ? parse(target).root.length : 0).split(sep).filter(Boolean));
      continue;
    }
    at = next;
  }
  return at;
}

interface Asked {
  /** Walks out (one stuck on a dead mount stays out), the newest one's number, and the newest one answered. */
  walks: number;
  newest: number;
  settled: number;
  /** The links the newest walk has met so far (it may hang past them). */
  hops: Hop[];
  /** The links being read again: one read out per link, as its mount may have died since (review 66). */
  readonly reading: Set<string>;
  /** The walk started for the last link found moved: a place asked before it may lie on the old target. */
  moveWalk: number;
  /** A link found moved while walksMax walks were out: walked as soon as one returns. */
  wantWalk: boolean;
  /** The newest finished walk's links, and its number: whose place answers the questions waiting. */
  key: string | undefined;
  keyId: number;
  /** The places being asked, by walk links, and the walk that asked (one thread each until it answers). */
  readonly asking: Map<string, number>;
  /** The questions (their numbers) waiting for this pair folder's place. */
  readonly waiting: Set<number>;
}

export class FolderPlaces {
  private readonly pairs = new Map<string, Asked>();

  /** `walksMax`: walks out at once per pair folder, each one stuck on a dead mount holding a thread (watch's own process has four). */
  constructor(private readonly answer: (n: number, place: Place) => void, private readonly walksMax = 4, private readonly io: PlacesIo = REAL_IO) {}

  /** Question `n`: where `pair`'s watch looks. Asked again with the same `n` while it waits, it looks whether a link on the path moved. */
  ask(n: number, pair: PairFolder): void {
    const key = `${pair.tool}\0${pair.local}`;
    const a = this.pairs.get(key) ?? { walks: 0, newest: 0, settled: 0, hops: [], reading: new Set<string>(), moveWalk: 0, wantWalk: false, key: undefined, keyId: 0, asking: new Map<string, number>(), waiting: new Set<number>() };
    this.pairs.set(key, a);
    a.waiting.add(n);
    // The newest question answered: a new walk (an older one stuck on a dead mount waits on its own).
    if (a.settled === a.newest) return this.walk(a, pair);
    // The newest is out (on a folder that does not answer?): asked anew only if a link met on the way,
    // on a file system that answered, leads elsewhere now (review 64: one above the link that moved, a
    // cluster's /home -> /gpfs/home, had hidden the move when only the first link was looked at).
    const hops = a.hops;
    void this.moved(a, hops).then((m) => {
      // Found for links a newer walk has replaced: that walk's count.
      if (!m || hops !== a.hops) return;
      if (a.walks >= this.walksMax) a.wantWalk = true;
      else this.walk(a, pair, true);
    });
  }

  /** Whether a link the walk met leads elsewhere now, or a part it found missing is there; it stops before a link whose read is still out. */
  private async moved(a: Asked, hops: readonly Hop[]): Promise<boolean> {
    for (const [path, target] of hops) {
      if (a.reading.has(path)) return false;
      a.reading.add(path);
      const now = await (target === MISSING ? this.io.lstat(path).then(() => 'there', () => MISSING) : this.io.readlink(path).catch(() => UNREADABLE)).finally(() => a.reading.delete(path));
      if (now !== target) return true;
    }
    return false;
  }

  private walk(a: Asked, pair: PairFolder, moved = false): void {
    const id = ++a.newest;
    if (moved) a.moveWalk = id;
    const hops: Hop[] = [];
    a.hops = hops;
    a.walks++;
    void walkLinks(pair.local, hops, this.io).then((resolved) => {
      a.walks--;
      if (a.wantWalk) {
        a.wantWalk = false;
        return this.walk(a, pair, true);
      }
      // A newer walk began (a link moved meanwhile): its answer is the one that counts.
      if (id !== a.newest) return;
      const key = hops.map((h) => h.join('\0')).join('\n');
      a.key = key;
      a.keyId = id;
      // That place is asked already, since the last move: its answer serves. One asked before a move may
      // have resolved the old target (review 66: a link moved away and back waited on it for good).
      const out = a.asking.get(key);
      if (out !== undefined && out >= a.moveWalk) return;
      a.asking.set(key, id);
      // The path the walk resolved, not the pair's again: a link switched away and back meanwhile would have
      // led the place onto a dead mount no later look tells (review 67).
      void this.io.placeOf(resolved === undefined ? pair : { local: resolved, tool: pair.tool, written: pair.local }).then((place) => {
        if (a.asking.get(key) === id) a.asking.delete(key);
        // Asked before a link moved, or the path leads elsewhere now, or a newer walk is out: not this place (review 65).
        if (id < a.moveWalk || a.key !== key || a.keyId !== a.newest) return;
        a.settled = a.keyId;
        for (const w of a.waiting) this.answer(w, place);
        a.waiting.clear();
      });
    });
  }
}
