// A mirror whose folder holds another pair's folder: its deletions would remove that pair's files (one
// pulled there, one written since, its backups) and the two pairs would undo each other on every run
// (review 37). Said at load, with the exclude that keeps the inner folder the inner pair's own.
import { relative, sep } from 'node:path';
import type { ManifestIssue } from '../errors.js';
import type { ResolvedPair } from '../types.js';

/** The excludes that leave `rel` (a folder) out of a pair's trees, as rsync reads them. */
const covers = (exclude: readonly string[], rel: string): boolean =>
  exclude.some((e) => [`/${rel}/`, `/${rel}`, `${rel}/`, rel, `/${rel}/**`, `${rel}/**`].includes(e));

export function nestedPairIssues(pairs: readonly ResolvedPair[], file: string): ManifestIssue[] {
  const out: ManifestIssue[] = [];
  for (const outer of pairs) {
    // git and dvc pairs delete nothing in the folder; a pair that deletes nothing only adds files.
    if (!outer.delete || outer.tool === 'git' || outer.tool === 'dvc') continue;
    for (const inner of pairs) {
      if (inner === outer) continue;
      const rel = relative(outer.local, inner.local);
      if (!rel || rel.startsWith('..') || rel.startsWith(sep) || /^[A-Za-z]:/.test(rel)) continue;
      const folder = rel.split(sep).join('/');
      if (covers(outer.exclude, folder)) continue;
      out.push({
        file, line: outer.source.line, col: outer.source.col, pair: `${outer.category}.${outer.name}`,
        message: `this pair mirrors (delete: true) a folder that holds the pair ${inner.category}.${inner.name} (${folder}/): its deletions would remove that pair's files and backups. Add exclude: ["/${folder}/"] to this pair, or set delete: false`,
      });
    }
  }
  return out;
}
