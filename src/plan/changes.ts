// Pure: the plan in the shapes the rest of labsync already reads (Changes for the guard, the
// reporters and --dry-run), and what a tool is handed to carry it out.
import type { Changes } from '../adapters/types.js';
import type { PairPlan, PlannedFile, PlanReason } from './types.js';

export function changesOf(plan: PairPlan): Changes {
  return {
    transfer: [...plan.send, ...plan.replace].map((f) => f.path),
    replace: plan.replace.map((f) => f.path),
    delete: plan.delete.map((f) => f.path),
    sourceFiles: plan.sourceFiles,
    destFiles: plan.destFiles,
  };
}

/** Some file is planned for its content alone: the tool's quick check (size, time) would skip it. */
export const needsContentCompare = (plan: PairPlan): boolean => plan.replace.some((f) => f.reason === 'content') || plan.send.some((f) => f.reason === 'content');

/**
 * A plan of just these files in this order, not made from two listings (a drain's batch, a repair's
 * re-send, a marker): no digests. `reason` 'content' makes the tool compare content, not size and time.
 */
export function filesPlan(send: readonly string[], reason: PlanReason, del: readonly string[] = []): PairPlan {
  const files = (paths: readonly string[], why: PlanReason): PlannedFile[] => paths.map((path) => ({ path, size: 0, reason: why }));
  return { send: files(send, reason), replace: [], delete: files(del, 'extra'), sourceFiles: send.length, destFiles: del.length, sourceDigest: '', destDigest: '' };
}

/**
 * What to name to delete the planned files: a file, or the topmost of its folders that holds no source
 * file at all (a tool cannot name a file under a folder the source lacks; it empties the folder
 * instead, as a mirror would). Sorted, without duplicates.
 */
export function deletionTargets(plan: PairPlan, sourcePaths: readonly string[]): string[] {
  const sourceDirs = new Set<string>();
  for (const p of sourcePaths) {
    for (let at = p.indexOf('/'); at >= 0; at = p.indexOf('/', at + 1)) sourceDirs.add(p.slice(0, at));
  }
  const out = new Set<string>();
  const replaced = underSentFile(plan);
  for (const { path } of plan.delete) {
    // A file whose path is a folder at the source: the transfer put the folder in its place (naming it
    // here would empty the new folder of whatever the source lacks there).
    if (sourceDirs.has(path) || replaced(path)) continue;
    let target = path;
    for (let at = path.indexOf('/'); at >= 0; at = path.indexOf('/', at + 1)) {
      const dir = path.slice(0, at);
      if (!sourceDirs.has(dir)) {
        target = dir;
        break;
      }
    }
    out.add(target);
  }
  return [...out].sort();
}

/**
 * Whether a deletion lies in a folder the plan sends a file in place of: the transfer deleted that folder
 * to make way (rsync --force), and naming its files again stops rsync ("Not a directory" at the source).
 */
export function underSentFile(plan: PairPlan): (path: string) => boolean {
  const sent = new Set<string>();
  for (const { path } of [...plan.send, ...plan.replace]) sent.add(path);
  return (path) => {
    for (let at = path.indexOf('/'); at >= 0; at = path.indexOf('/', at + 1)) if (sent.has(path.slice(0, at))) return true;
    return false;
  };
}

/** A NUL-separated list for a tool's --files-from=- --from0. */
export const nulList = (paths: readonly string[]): string => paths.map((p) => `${p}\0`).join('');
