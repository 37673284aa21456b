// The hash caches labsync wrote before format 3 (one JSON document per tree): read once, then removed.
import { readFileSync, rmSync } from 'node:fs';
import type { Row } from './cache-file.js';
import { byteOrder } from './walk.js';

const OLD_VERSION = 2;

const validOldRow = (r: unknown): r is Row => Array.isArray(r) && r.length === 9 && typeof r[0] === 'string' && typeof r[5] === 'string';

/** The old file's rows for this root in byte order of path ([] for another root or version), undefined if damaged; the file is removed either way. */
export function takeOldRows(file: string, root: string): Row[] | undefined {
  let rows: Row[] | undefined = [];
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { version: number; root: string; rows: Row[] };
    if (doc.version === OLD_VERSION && doc.root === root && Array.isArray(doc.rows)) {
      rows = doc.rows.filter(validOldRow).sort((a, b) => byteOrder(a[0], b[0]));
    }
  } catch {
    rows = undefined;
  }
  try {
    rmSync(file, { force: true });
  } catch {
    // an old file that stays is never read again once the new one exists
  }
  return rows;
}
