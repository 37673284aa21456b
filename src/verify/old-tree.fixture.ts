// For tests of listings: trees of files an hour old (past every racy window, so a listing's keys are
// settled), in a folder the test made and removes.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const HOUR_AGO = new Date(Date.now() - 3600_000);

/** Writes `text` at `p` under `root` (its folders made), its mtime an hour ago. */
export function writeOld(root: string, p: string, text: string): void {
  const f = join(root, p);
  mkdirSync(join(f, '..'), { recursive: true });
  writeFileSync(f, text);
  utimesSync(f, HOUR_AGO, HOUR_AGO);
}

/** `files` (path → text) written into `root` with writeOld; returns root. */
export function oldTree(root: string, files: Record<string, string>): string {
  for (const [p, text] of Object.entries(files)) writeOld(root, p, text);
  return root;
}
