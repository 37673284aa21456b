// A pair labsync cannot plan itself (git, dvc, a bisync, a folder holding symlinks…): the tool's own
// dry run says what would change; labsync guards that, runs the tool's transfer, then verifies.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Adapter, Changes, Command } from '../adapters/types.js';
import { backupLocal, BACKUP_DIR } from './local-backup.js';
import type { Direction, ResolvedPair } from '../types.js';
import { attempt, type AttemptContext } from './attempt.js';
import { afterTransfer } from './after-transfer.js';
import { localFiles } from './pair-tree.js';
import { guardChanges } from './guards.js';
import { probe, stopped, type Body } from './outcome.js';
import type { PairRunOptions } from './pair-options.js';
import { unplannable } from './plan-seam.js';
import { movedStats } from './sizes.js';
import { clearStaleToolLocks } from './tool-locks.js';
import { lastSynced } from './bisync-listings.js';
import { resyncHint } from '../adapters/rclone/classify.js';
import { atLeast, BISYNC_MODERN } from '../adapters/rclone/features.js';

/** Preview, guard, transfer, verify: the run of a pair whose tool compares by itself. */
export async function previewBody(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, direction: Direction, ctx: AttemptContext, show: (list: readonly (Command | string)[]) => void): Promise<Body> {
  if (o.seam) return unplannable(pair, o.seam);
  if (o.shard) return { status: 'refused', error: `${pair.category}.${pair.name} cannot run as a shard here: ${pair.tool} compares ${pair.remoteLabel} by itself (labsync could not list it to plan, e.g. the folder holds symlinks), so there is no file plan to split; nothing was changed` };

  if (o.action !== 'status' && !o.dryRun) {
    for (const gone of await clearStaleToolLocks(adapter, pair, direction, o.plan)) {
      o.emit({ kind: 'warning', pair: pair.name, message: `removed ${pair.tool}'s lock left by PID ${gone.pid}, which is no longer running (${gone.file}); this run recovers from its listings` });
    }
  }
  // A bisync judged against both sides as the last sync left them (bisync-listings.ts); without its
  // listings there is nothing to judge by, and the dry run would read an earlier dry run's leftovers.
  // rclone's bisync only: a code pair's `sync` is git's own pull and push.
  const rcloneBisync = direction === 'bisync' && pair.tool === 'rclone' && !o.plan.resync;
  const synced = rcloneBisync ? lastSynced(pair, atLeast(o.plan.toolVersions?.rclone, BISYNC_MODERN)) : undefined;
  if (rcloneBisync && synced === undefined) {
    return { status: 'refused', error: `bisync has no listing of a last sync of ${pair.name} (a first run, or its listings were lost or set aside after a failure): it cannot tell a deleted file from a new one; nothing was changed`, hint: resyncHint(pair, o.plan.toolVersions?.rclone) };
  }
  const preview = adapter.preview(pair, direction, o.plan);
  show(preview.commands);
  o.emit({ kind: 'pair_step', pair: pair.name, step: 'comparing' });
  const looked = await probe<Changes>(preview, ctx);
  if ('stop' in looked) return looked.stop;
  const changes = direction === 'pull' ? withLocalDestination(looked.value, pair, adapter) : synced !== undefined ? { ...looked.value, destFiles: synced } : looked.value;
  const pending = changes.transfer.length + changes.delete.length + (changes.uncommitted?.length ?? 0);

  if (o.action === 'status') return { status: pending ? 'drift' : 'in_sync', changes };
  // The tool's own state says no (git: uncommitted changes, diverged history): a stop for a human.
  if (changes.blockers?.length) return { status: 'refused', error: changes.blockers.join('; '), changes };
  // rclone before 1.66 names a conflict's copies NAME..path1 and NAME..path2 every time: a second
  // conflict on one file overwrote the copies the first one kept, on both sides.
  const taken = (changes.conflictCopies ?? []).filter((p) => existsSync(join(pair.local, p)));
  if (taken.length) return { status: 'refused', error: `a file changed on both sides would be renamed onto ${taken.join(', ')}, which an earlier conflict left; this rclone reuses those names and would overwrite them; nothing was changed`, hint: 'move those copies aside (or merge them) and run again; rclone 1.66 or newer numbers its copies instead (LABSYNC_RCLONE)', changes };
  const refusal = guardChanges({ direction, mirror: pair.delete || direction === 'bisync', maxDelete: pair.maxDelete, changes });
  if (refusal) return { status: 'refused', error: refusal, changes };
  if (o.dryRun) return { status: 'planned', changes };
  if (o.signal.aborted) return { status: 'interrupted', error: 'interrupted', changes };

  // Nothing to send or delete: the transfer step does not run (issue 12). Its hooks, lock, state and
  // receipt behave as for any run, and verify still runs: a corruption the preview's quick check
  // misses is found there and repaired. A bisync's explicit --resync always runs: it rebuilds the
  // tool's own listings even when nothing differs.
  const resyncing = direction === 'bisync' && o.plan.resync;
  // git's preview counts commits, not LFS objects: a clone made without them still needs `git lfs pull`.
  const lfsFetch = pair.tool === 'git' && pair.lfs && direction !== 'push';
  if (pending === 0 && !resyncing && !lfsFetch) return afterTransfer(pair, adapter, o, ctx, show, { attempts: 1, changes, warnings: [], files: 0, bytes: 0 }, direction);

  if (direction === 'pull' && pair.backup && adapter.localBackup) {
    const kept = await backupLocal(pair.local, changes, o.plan.stamp);
    if (kept) o.emit({ kind: 'pair_step', pair: pair.name, step: `kept ${kept} local files in ${BACKUP_DIR}/${o.plan.stamp}` });
  }
  const transfer = adapter.transfer(pair, direction, o.plan, changes);
  show(transfer);
  o.emit({ kind: 'pair_step', pair: pair.name, step: direction === 'pull' ? 'pulling' : 'pushing' });
  const moved = await attempt(transfer, { ...ctx, progress: true, watchStall: true });
  if (moved.kind !== 'ok') return { ...stopped(moved), changes };
  const stats = await movedStats(adapter, pair, moved.outputs, changes);
  return afterTransfer(pair, adapter, o, ctx, show, { attempts: moved.attempts, changes, warnings: [...moved.warnings], ...stats }, direction);
}

/**
 * Where the tool cannot tell about a local destination (aws pull), labsync looks itself: how many
 * files are there (for the delete guard), and which transfers replace one (for the dry run's list).
 */
function withLocalDestination(changes: Changes, pair: ResolvedPair, adapter: Adapter): Changes {
  if (changes.destFiles !== undefined && (changes.replace !== undefined || !adapter.capabilities.copiesFiles)) return changes;
  const here = localFiles(pair);
  const paths = new Set(here.map((f) => f.path));
  return {
    ...changes,
    destFiles: changes.destFiles ?? here.length,
    ...(changes.replace === undefined && adapter.capabilities.copiesFiles ? { replace: changes.transfer.filter((p) => paths.has(p)) } : {}),
  };
}
