// Pure: which watcher events matter to a pair. The native watcher is told the excludes so it can skip
// whole excluded folders, but labsync's own matcher judges every path it reports.
import { relative, sep } from 'node:path';
import { globBody, type Matcher } from '../verify/glob.js';

export type WatchEventType = 'create' | 'update' | 'delete';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * @parcel/watcher ignore patterns (regular expressions over absolute paths) for a pair's excludes.
 * They may only ever ignore less than the matcher: a folder-only pattern ("cache/") becomes "whatever
 * is inside such a folder", because the native side cannot tell a file named `cache` from the folder.
 */
export function nativeIgnores(local: string, patterns: readonly string[]): RegExp[] {
  const root = escape(local.endsWith(sep) ? local.slice(0, -1) : local);
  return patterns.map((p) => {
    const dirOnly = p.endsWith('/');
    const anchored = p.startsWith('/');
    const core = globBody(p.replace(/^\/+/, '').replace(/\/+$/, ''));
    return new RegExp(`^${root}/${anchored ? '' : '(?:.*/)?'}${core}${dirOnly ? '/.*' : '(?:/.*)?'}$`);
  });
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
