// A pull's deletions, made here: the destination is this machine's folder. Each planned file is removed
// (or moved into the backup folder) by itself, and only folders left empty are removed after, deepest
// first. The tool's way named a whole folder the remote lacks and emptied it with `--delete`: a file
// written there while a long pull ran (a new checkpoint) went with it, counted nowhere (review 37).
import { lstat, mkdir, readdir, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BACKUP_DIR } from '../adapters/own-excludes.js';
import type { PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { compileExcludes } from '../verify/glob.js';
import type { Emit } from './events.js';
import { treeExcludes } from './pair-tree.js';

const gone = (e: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '');

/**
 * Removes `paths` (relative to `root`): a path gone since, or a folder now (the transfer put the
 * remote's folder in its place), is left alone. `backupDir`: moved there instead, under the same path.
 * Returns how many were removed.
 */
export async function deleteHere(root: string, paths: readonly string[], backupDir?: string): Promise<number> {
  let removed = 0;
  const parents = new Set<string>();
  for (const p of paths) {
    const abs = join(root, p);
    let st;
    try {
      st = await lstat(abs);
    } catch (e) {
      if (gone(e)) continue;
      throw e;
    }
    if (st.isDirectory()) continue;
    if (backupDir) {
      await mkdir(dirname(join(backupDir, p)), { recursive: true });
      await rename(abs, join(backupDir, p));
    } else {
      try {
        await unlink(abs);
      } catch (e) {
        if (gone(e)) continue;
        throw e;
      }
    }
    removed++;
    for (let d = dirname(p); d !== '.' && d !== '/' && d !== ''; d = dirname(d)) parents.add(d);
  }
  // Deepest first; a folder holding anything (a file written since the listing) stays.
  for (const d of [...parents].sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1))) {
    await rmdir(join(root, d)).catch(() => undefined);
  }
  return removed;
}

/**
 * A pull's deletion targets (files, or the topmost folder the remote lacks: plan/changes.ts) split into
 * the folders removed here (`here`) and what is named to the tool (`targets`). Only an rsync pull's: its
 * destination is this machine's folder.
 */
export function splitPullTargets(pair: ResolvedPair, direction: 'push' | 'pull', plan: PairPlan, named: readonly string[]): { here: string[]; targets: string[] } {
  if (direction !== 'pull' || pair.tool !== 'rsync') return { here: [], targets: [...named] };
  const files = new Set(plan.delete.map((f) => f.path));
  return { here: named.filter((t) => !files.has(t)), targets: named.filter((t) => files.has(t)) };
}

/** The planned deletions under the folders `here`, removed here (into the pair's backup folder when it keeps one). */
export async function deletePlannedUnder(pair: ResolvedPair, plan: PairPlan, here: readonly string[], stamp: string, emit: Emit): Promise<number> {
  const under = plan.delete.map((f) => f.path).filter((p) => here.some((t) => p.startsWith(`${t}/`)));
  emit({ kind: 'pair_step', pair: pair.name, step: `deleting ${under.length} files here` });
  const backup = pair.backup ? join(pair.local, BACKUP_DIR, stamp) : undefined;
  const removed = await deleteHere(pair.local, under, backup);
  // What no listing plans but the folder's removal took before (rsync --delete): its symlinks and
  // empty folders. Regular files (one written since the listing) stay, and so does their folder.
  // What the pair excludes stays, as rsync --delete (without --delete-excluded) keeps it: a run's
  // `latest` link, an inner pair's folder (review 40).
  const m = compileExcludes(treeExcludes(pair));
  for (const t of here) await clearLeftovers(pair.local, t, (p, dir) => m.excludes(p, dir), backup);
  return removed;
}

/** Under `rel`: symlinks not `kept` removed (or moved into `backupDir`), then folders left empty, deepest first; a kept folder is not entered. */
async function clearLeftovers(root: string, rel: string, kept: (path: string, isDir: boolean) => boolean, backupDir?: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch (e) {
    if (gone(e)) return;
    throw e;
  }
  for (const e of entries) {
    const p = `${rel}/${e.name}`;
    if (kept(p, e.isDirectory())) continue;
    if (e.isDirectory()) await clearLeftovers(root, p, kept, backupDir);
    else if (e.isSymbolicLink()) await deleteHere(root, [p], backupDir);
  }
  await rmdir(join(root, rel)).catch(() => undefined);
}
