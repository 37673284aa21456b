// The S3 stores (endpoint and bucket) a probe found to honour If-None-Match, kept in the project's
// .labsync/cache like the tool versions: a probe costs three requests, and a store does not stop
// honouring conditional writes between runs. Only a yes is kept (a store that ignored them holds no
// lock, and is asked again next run); an unreadable file is an empty one.
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cacheDir } from '../state/paths.js';

const FILE = 's3-conditional-writes.json';

function known(root: string): string[] {
  try {
    const doc = JSON.parse(readFileSync(join(cacheDir(root), FILE), 'utf8')) as unknown;
    return Array.isArray(doc) ? doc.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export const honoursConditions = (root: string, store: string): boolean => known(root).includes(store);

export function rememberHonours(root: string, store: string): void {
  try {
    const dir = cacheDir(root);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `${FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    writeFileSync(tmp, JSON.stringify([...new Set([...known(root), store])]));
    renameSync(tmp, join(dir, FILE));
  } catch {
    // unwritable: the next run probes again
  }
}
