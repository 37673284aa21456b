// The symlinks of a local tree, as rsync --archive copies them (path → target). labsync's own lists
// hold regular files only; a local pair's comparison looks at these beside them, so a link re-pointed
// or gone at one side is drift, without reading any file (rsync -c over both trees read every byte).
import { existsSync } from 'node:fs';
import { readOutput } from '../exec/run.js';
import { excludedPath, pruneArgs } from './find-list.js';

export async function listLinks(root: string, excludes: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!existsSync(root)) return out;
  // As the files' listing walks (find-list.ts): excluded folders pruned, a folder removed mid-walk (a job
  // rotating checkpoints) no failure.
  const r = await readOutput(['find', '.', '-ignore_readdir_race', ...pruneArgs(excludes), '-type', 'l', '-printf', '%P\\0%l\\0'], root);
  if (r.exitCode !== 0) throw new Error(`find could not list the symlinks under ${root}: ${r.stderr.trim()}`);
  const excluded = excludedPath(excludes);
  // A target is compared byte for byte (latin1 keeps every byte); a name is read as UTF-8 to be shown.
  const parts = r.stdout.toString('latin1').split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const path = Buffer.from(parts[i] as string, 'latin1').toString('utf8');
    if (!excluded?.(path)) out.set(path, parts[i + 1] as string);
  }
  return out;
}

/** Links here only (missing there), there only (extra), and those pointing elsewhere (changed). */
export function compareLinks(here: ReadonlyMap<string, string>, there: ReadonlyMap<string, string>): { missing: string[]; extra: string[]; changed: string[] } {
  const missing: string[] = [];
  const changed: string[] = [];
  for (const [p, target] of here) {
    const t = there.get(p);
    if (t === undefined) missing.push(p);
    else if (t !== target) changed.push(p);
  }
  const extra = [...there.keys()].filter((p) => !here.has(p));
  return { missing: missing.sort(), extra: extra.sort(), changed: changed.sort() };
}
