// Where each pair's watch looks, answered by the looks helper (folder-answers.ts), or in watch's own
// process where the helper cannot run (folder-asker.ts). A folder whose network file system stopped
// answering holds one thread here however often it is asked: a question asked again while one is out (the
// asker re-sends it every STALE_MS) looks only at the first link on the pair folder's path, which lies on
// a file system that answers, and asks the place anew only if that link leads elsewhere now. Review 62: a
// new question per ask, three at most per pair, had taken three threads per dead folder, and a link
// re-pointed off the dead mount after the third was never followed.
import { lstat, readlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ResolvedPair } from '../types.js';
import { placeOf } from './watch-filter.js';

/** `local`: the pair's folder, links resolved; `top`: the folder subscribed to; `id`: which folder is there (undefined: none). */
export interface Place {
  readonly local: string;
  readonly top: string;
  readonly id: string | undefined;
}

export type PairFolder = Pick<ResolvedPair, 'local' | 'tool'>;

/**
 * The first symlink on `local`'s path and where it leads ('': none), or the first part of it that is
 * missing: what decides where the rest of the path lies. Each step is an lstat of a folder above it.
 */
export async function firstLink(local: string): Promise<string> {
  let at = '';
  for (const part of resolve(local).split('/').filter(Boolean)) {
    at += `/${part}`;
    const st = await lstat(at).catch(() => undefined);
    if (!st) return `${at}\0missing`;
    if (st.isSymbolicLink()) return `${at}\0${await readlink(at).catch(() => '')}`;
  }
  return '';
}

interface Asked {
  /** The path's first link is being looked at (a folder above it may not answer either). */
  walking: boolean;
  /** What the last look at the first link found: whose place answers the questions waiting. */
  link: string | undefined;
  /** The links whose place is being asked (one thread each until it answers). */
  readonly asking: Set<string>;
  /** The questions (their numbers) waiting for this pair folder's place. */
  readonly waiting: Set<number>;
}

export class FolderPlaces {
  private readonly pairs = new Map<string, Asked>();

  constructor(private readonly answer: (n: number, place: Place) => void) {}

  /** Question `n`: where `pair`'s watch looks. Asked again with the same `n` while it waits, it looks whether the pair folder's link moved. */
  ask(n: number, pair: PairFolder): void {
    const key = `${pair.tool}\0${pair.local}`;
    const a = this.pairs.get(key) ?? { walking: false, link: undefined, asking: new Set<string>(), waiting: new Set<number>() };
    this.pairs.set(key, a);
    a.waiting.add(n);
    if (a.walking) return;
    a.walking = true;
    void firstLink(pair.local).then((link) => {
      a.walking = false;
      a.link = link;
      // Asked already: its answer goes to every question waiting then.
      if (a.asking.has(link)) return;
      a.asking.add(link);
      void placeOf(pair).then((place) => {
        a.asking.delete(link);
        // The link leads elsewhere now: that place is asked (or answered) for the questions waiting.
        if (a.link !== link) return;
        for (const w of a.waiting) this.answer(w, place);
        a.waiting.clear();
      });
    });
  }
}
