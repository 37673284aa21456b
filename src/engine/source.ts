// One rule for the pair's local folder, whatever the tool (README: "A missing local folder"):
// pushing (or bisyncing) from a missing folder is a safety stop; pulling into one makes it first.
import { mkdir, opendir, rmdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Action, Direction, ResolvedPair } from '../types.js';

/** 'missing', 'not-a-folder', 'empty' or 'ok': checked before any tool runs. */
export async function localSourceState(path: string): Promise<'missing' | 'not-a-folder' | 'empty' | 'ok'> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return 'missing';
  if (!s.isDirectory()) return 'not-a-folder';
  const dir = await opendir(path);
  try {
    for await (const _ of dir) return 'ok';
    return 'empty';
  } finally {
    await dir.close().catch(() => undefined);
  }
}

export type LocalFolder = { readonly refused: string } | { readonly failed: string } | { readonly undo: (failed?: boolean) => Promise<void> };

const WHY = { missing: 'does not exist', 'not-a-folder': 'is not a folder', empty: 'is empty' } as const;
const nothing = async (): Promise<void> => undefined;

/**
 * Before any tool runs. A push or bisync from a missing folder is refused (bisync propagates deletions
 * both ways, so an empty folder is as dangerous as for a mirror); `status` and `check` only refuse a
 * missing one, an empty one is theirs to report. A pull into a missing folder makes it (mkdir -p), so
 * every tool pulls alike (aws would make it, rsync only with --mkpath, rclone's check would fail);
 * a look that must change nothing (dry run, status, check) takes back the empty folders it made, and
 * so does a pull that failed (a missing repo or revision leaves nothing behind); `undo` is told which.
 * `makes`: whether labsync makes the folder for a pull (tools that copy files; dvc makes its own).
 */
export async function prepareLocal(pair: ResolvedPair, direction: Direction, action: Action, o: { makes: boolean; changesNothing: boolean }): Promise<LocalFolder> {
  if (direction === 'push' || direction === 'bisync') {
    const state = await localSourceState(pair.local);
    const looking = action === 'status' || action === 'check';
    if (state === 'ok' || (looking && state === 'empty')) return { undo: nothing };
    const verb = looking ? 'compare' : direction === 'bisync' ? 'bisync' : pair.delete ? 'mirror' : 'push';
    return { refused: `the source ${pair.local} ${WHY[state]}; refusing to ${verb} it` };
  }
  if (!o.makes) return { undo: nothing };
  const s = await stat(pair.local).catch(() => undefined);
  if (s && !s.isDirectory()) return { refused: `the destination ${pair.local} is not a folder; refusing to pull into it` };
  if (s) return { undo: nothing };
  let first: string | undefined;
  try {
    first = await mkdir(pair.local, { recursive: true });
  } catch (error) {
    return { failed: `cannot make the local folder ${pair.local} to pull into (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  if (!first) return { undo: nothing };
  return {
    undo: async (failed = false) => {
      if (!o.changesNothing && !failed) return;
      // Innermost first; rmdir removes only empty folders, so nothing a tool wrote there is lost.
      for (let dir = pair.local; ; dir = dirname(dir)) {
        if (!(await rmdir(dir).then(() => true, () => false)) || dir === first) return;
      }
    },
  };
}
