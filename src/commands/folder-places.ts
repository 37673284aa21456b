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
}

export type PairFolder = Pick<ResolvedPair, 'local' | 'tool'>;

/** A symlink met on the path and where it led (or a part found missing: MISSING). */
type Hop = readonly [path: string, target: string];
const MISSING = '\0missing';
const UNREADABLE = '\0unreadable';
/** How long a look at the links may be out before another looks at those before the one it waits on. */
const CHECK_STALE_MS = 10_000;

/**
 * The symlinks met resolving `local` as the kernel does (`..` after a link is above its target), each
 * with its target, pushed onto `hops` as they are found: a walk that hangs on a dead mount keeps those
 * before it. Ends at the first part missing. Each step is an lstat, or a readlink, of one path part.
 */
export async function walkLinks(local: string, hops: Hop[]): Promise<void> {
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
    const st = await lstat(next).catch(() => undefined);
    if (!st) return void hops.push([next, MISSING]);
    if (st.isSymbolicLink() && links++ < 40) {
      const target = await readlink(next).catch(() => UNREADABLE);
      hops.push([next, target]);
      // Not read (an I/O error, replaced meanwhile): where the path goes on is not known.
      if (target === UNREADABLE) return;
      if (isAbsolute(target)) at = parse(target).root;
      todo.unshift(...target.slice(isAbsolute(target) ? parse(target).root.length : 0).split(sep).filter(Boolean));
      continue;
    }
    at = next;
  }
}

/** Whether a link the walk met leads elsewhere now, or a part it found missing is there; `at(i)` is told which it reads (it may hang there). */
async function moved(hops: readonly Hop[], at: (i: number) => void): Promise<boolean> {
  for (const [i, [path, target]] of hops.entries()) {
    at(i);
    const now = target === MISSING ? await lstat(path).then(() => 'there', () => MISSING) : await readlink(path).catch(() => UNREADABLE);
    if (now !== target) return true;
  }
  return false;
}

interface Asked {
  /** Walks out (one stuck on a dead mount stays out), the newest one's number, and the newest one answered. */
  walks: number;
  newest: number;
  settled: number;
  /** The links the newest walk has met so far (it may hang past them). */
  hops: Hop[];
  /**
   * The look at those links out (one at a time: their mount may die too): since when, and the link it reads.
   * One out longer than CHECK_STALE_MS leaves another to read the links before that one (review 65).
   */
  checking: { since: number; at: number } | undefined;
  /** The newest finished walk's links, and its number: whose place answers the questions waiting. */
  key: string | undefined;
  keyId: number;
  /** The walks' keys whose place is being asked (one thread each until it answers). */
  readonly asking: Set<string>;
  /** The questions (their numbers) waiting for this pair folder's place. */
  readonly waiting: Set<number>;
}

export class FolderPlaces {
  private readonly pairs = new Map<string, Asked>();

  /** `walksMax`: walks out at once per pair folder, each one stuck on a dead mount holding a thread (watch's own process has four). */
  constructor(private readonly answer: (n: number, place: Place) => void, private readonly walksMax = 4) {}

  /** Question `n`: where `pair`'s watch looks. Asked again with the same `n` while it waits, it looks whether a link on the path moved. */
  ask(n: number, pair: PairFolder): void {
    const key = `${pair.tool}\0${pair.local}`;
    const a = this.pairs.get(key) ?? { walks: 0, newest: 0, settled: 0, hops: [], checking: undefined, key: undefined, keyId: 0, asking: new Set<string>(), waiting: new Set<number>() };
    this.pairs.set(key, a);
    a.waiting.add(n);
    // The newest question answered: a new walk (an older one stuck on a dead mount waits on its own).
    if (a.settled === a.newest) return this.walk(a, pair);
    // The newest is out (on a folder that does not answer?): asked anew only if a link met on the way,
    // on a file system that answered, leads elsewhere now (review 64: one above the link that moved, a
    // cluster's /home -> /gpfs/home, had hidden the move when only the first link was looked at).
    if (a.walks >= this.walksMax) return;
    const was = a.checking;
    if (was && performance.now() - was.since < CHECK_STALE_MS) return;
    const hops = was ? a.hops.slice(0, was.at) : a.hops;
    if (was && !hops.length) return;
    const look = { since: performance.now(), at: 0 };
    a.checking = look;
    void moved(hops, (i) => (look.at = i)).then((m) => {
      if (a.checking === look) a.checking = undefined;
      if (m && a.walks < this.walksMax) this.walk(a, pair);
    });
  }

  private walk(a: Asked, pair: PairFolder): void {
    const id = ++a.newest;
    const hops: Hop[] = [];
    a.hops = hops;
    a.walks++;
    void walkLinks(pair.local, hops).then(() => {
      a.walks--;
      // A newer walk began (a link moved meanwhile): its answer is the one that counts.
      if (id !== a.newest) return;
      const key = hops.map((h) => h.join('\0')).join('\n');
      a.key = key;
      a.keyId = id;
      if (a.asking.has(key)) return;
      a.asking.add(key);
      void placeOf(pair).then((place) => {
        a.asking.delete(key);
        // The path leads elsewhere now, or a newer walk is out (a link found moved): not this place (review 65).
        if (a.key !== key || a.keyId !== a.newest) return;
        a.settled = a.keyId;
        for (const w of a.waiting) this.answer(w, place);
        a.waiting.clear();
      });
    });
  }
}
