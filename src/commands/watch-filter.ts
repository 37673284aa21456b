// Pure: which watcher events matter to a pair. The native watcher is told the cheap excludes so it can
// skip whole excluded folders, but labsync's own matcher judges every path it reports.
import { join, relative, sep } from 'node:path';
import type { Matcher } from '../verify/glob.js';

export type WatchEventType = 'create' | 'update' | 'delete';

/**
 * @parcel/watcher ignore paths for a pair's excludes: only the anchored patterns without wildcards
 * ("/.git/", "/build"), which it skips by a cheap prefix test, folder and contents. Glob patterns are
 * left to the matcher: as native regular expressions each one is tried on every path of the tree, and
 * five of them doubled the time to be ready on 50k files. (A folder-only one, "/.git/", also hides a
 * file of that exact name from the watcher: the next run still pushes it.)
 */
export function nativeIgnores(local: string, patterns: readonly string[]): string[] {
  return patterns
    .filter((p) => p.startsWith('/') && !/[*?[\]]/.test(p))
    .map((p) => join(local, p.replace(/^\/+/, '').replace(/\/+$/, '')));
}

/**
 * The event's path relative to the pair's folder ("/" separators), or undefined when the pair would
 * not send it: outside the folder, the folder itself, excluded, or inside an excluded folder.
 * `isDir` is unknown for a deleted path: it is then judged as a file, so a deletion never goes unpushed.
 */
export function pairPath(local: string, matcher: Matcher, path: string, isDir: boolean | undefined): string | undefined {
  const rel = relative(local, path).split(sep).join('/');
  if (rel === '' || rel === '..' || rel.startsWith('../')) return undefined;
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) if (matcher.excludes(parts.slice(0, i).join('/'), true)) return undefined;
  return matcher.excludes(rel, isDir ?? false) ? undefined : rel;
}

/** A line's worth of the changed paths: the first few names and how many more. */
export function describeChanged(paths: readonly string[], shown = 5): string {
  const head = paths.slice(0, shown).join(', ');
  const more = paths.length > shown ? ` and ${paths.length - shown} more` : '';
  return `${paths.length} changed path${paths.length === 1 ? '' : 's'}: ${head}${more}`;
}
