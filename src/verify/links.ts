// The symlinks of a local tree, as rsync --archive copies them (path → target). labsync's own lists
// hold regular files only; a local pair's comparison looks at these beside them, so a link re-pointed
// or gone at one side is drift, without reading any file (rsync -c over both trees read every byte).
import { existsSync, readdirSync, readlinkSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { readOutput } from '../exec/run.js';
import { excludedPath, pruneArgs } from './find-list.js';

export async function listLinks(root: string, excludes: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!existsSync(root)) return out;
  // As the files' listing walks (find-list.ts): excluded folders pruned, a folder removed mid-walk (a job
  // rotating checkpoints) no failure.
  const r = await readOutput(['find', '.', '-ignore_readdir_race', ...pruneArgs(excludes), '-type', 'l', '-printf', '%P\\0%l\\0'], root);
  const excluded = excludedPath(excludes);
  // A find without -printf (BSD, busybox) or one that failed: node walks the tree (a folder it may not read is left out, as find's prune would).
  if (r.exitCode !== 0) return walkLinks(root, (path) => excluded?.(path) ?? false);
  // Names and targets are compared byte for byte (latin1 keeps every byte: two names that differ only in
  // bytes that are not UTF-8 stay two); a name is read as UTF-8 only to be judged and shown.
  const parts = r.stdout.toString('latin1').split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const raw = parts[i] as string;
    if (!excluded?.(shown(raw))) out.set(raw, parts[i + 1] as string);
  }
  return out;
}

/** listLinks without find: every folder read in turn, each symlink's target read with it (keys and targets as find's, latin1). */
function walkLinks(root: string, excluded: (path: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return; // gone or unreadable
    }
    for (const e of entries) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(name);
      else if (e.isSymbolicLink() && !excluded(name)) {
        try {
          out.set(Buffer.from(name, 'utf8').toString('latin1'), readlinkSync(join(root, name), 'latin1'));
        } catch {
          // gone meanwhile
        }
      }
    }
  };
  walk('');
  return out;
}

/** A name as listed (latin1, byte for byte) as the user reads it. */
const shown = (raw: string): string => Buffer.from(raw, 'latin1').toString('utf8');

/** Links here only (missing there), there only (extra), and those pointing elsewhere (changed); names as the user reads them. */
export function compareLinks(here: ReadonlyMap<string, string>, there: ReadonlyMap<string, string>): { missing: string[]; extra: string[]; changed: string[] } {
  const missing: string[] = [];
  const changed: string[] = [];
  for (const [p, target] of here) {
    const t = there.get(p);
    if (t === undefined) missing.push(p);
    else if (t !== target) changed.push(p);
  }
  const extra = [...there.keys()].filter((p) => !here.has(p));
  return { missing: missing.map(shown).sort(), extra: extra.map(shown).sort(), changed: changed.map(shown).sort() };
}
