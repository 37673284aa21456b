// A mirror whose folder holds another pair's folder: its pull's deletions would remove that pair's files
// (one pulled there, one written since, its backups), and the two pairs would undo each other on every
// run (review 37). A mirror pull over such a folder is refused, naming the exclude that keeps it the
// inner pair's own; pushes, and every other pair, run as before.
import { relative, sep } from 'node:path';
import type { ResolvedPair } from '../types.js';

/** An exclude as the folder path it names (leading "./" or "/", trailing "/", "/*", "/**", "/***" dropped), and whether it is anchored. */
function folderOf(e: string): { path: string; anchored: boolean } {
  let p = e.replace(/^\.\//, '');
  const anchored = p.startsWith('/');
  p = p.replace(/^\/+/, '').replace(/\/(\*{1,3})?$/, '');
  return { path: p, anchored: anchored || p.includes('/') };
}

/** Whether the excludes leave folder `rel` out: one names it or a folder above it, or (unanchored) one of its folders' names. */
export function covers(exclude: readonly string[], rel: string): boolean {
  const parts = rel.split('/');
  const above = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  return exclude.some((e) => {
    const f = folderOf(e);
    return f.anchored ? above.includes(f.path) : parts.includes(f.path);
  });
}

/**
 * Each mirror pair's folders of other pairs it does not exclude (`category.name (folder/)`). Only a
 * pull deletes in the local folder, so only a mirror's pull is refused over them (run-pair.ts); a push
 * deletes at its own remote.
 */
export function nestedUncovered(pairs: readonly ResolvedPair[]): Map<ResolvedPair, string[]> {
  const out = new Map<ResolvedPair, string[]>();
  for (const outer of pairs) {
    // git and dvc pairs delete nothing in the folder; a pair that deletes nothing only adds files.
    if (!outer.delete || outer.tool === 'git' || outer.tool === 'dvc') continue;
    for (const inner of pairs) {
      if (inner === outer) continue;
      const rel = relative(outer.local, inner.local);
      if (!rel || rel.startsWith('..') || rel.startsWith(sep) || /^[A-Za-z]:/.test(rel)) continue;
      const folder = rel.split(sep).join('/');
      if (covers(outer.exclude, folder)) continue;
      out.set(outer, [...(out.get(outer) ?? []), `${inner.category}.${inner.name} (${folder}/)`]);
    }
  }
  return out;
}

/** The refusal of a mirror pull over folders of other pairs, naming them and the exclude that fixes it. */
export function nestedRefusal(nested: readonly string[]): string {
  const folder = /\(([^)]*)\/\)$/.exec(nested[0] as string)?.[1] ?? '';
  return `this mirror's folder holds the pair${nested.length === 1 ? '' : 's'} ${nested.join(', ')}: a mirror pull would delete ${nested.length === 1 ? 'its' : 'their'} files and backups; nothing was changed. Add exclude: ["/${folder}/"] to this pair, or set delete: false`;
}
