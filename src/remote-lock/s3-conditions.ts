// The S3 stores (endpoint URL and bucket) a probe found to honour If-None-Match, kept in the project's
// .labsync/cache like the tool versions: a probe costs three requests. Only a yes is kept (a store that
// ignored them holds no lock, and is asked again next run), for a week: one endpoint name may come to
// mean another store (localhost on another host of a shared folder, a gateway replaced). A yes never
// skips the read before a create, so a store that stopped honouring them still never has a live lock
// written over; one found ignoring them is forgotten. An unreadable file is an empty one.
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cacheDir } from '../state/paths.js';

const FILE = 's3-conditional-writes.json';

const FOR_MS = 7 * 24 * 3600 * 1000;

/** Each store and when it was found to honour them (ms); an older list form counts as none. */
function known(root: string): Record<string, number> {
  try {
    const doc = JSON.parse(readFileSync(join(cacheDir(root), FILE), 'utf8')) as unknown;
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return {};
    return Object.fromEntries(Object.entries(doc).filter((e): e is [string, number] => typeof e[1] === 'number'));
  } catch {
    return {};
  }
}

export function honoursConditions(root: string, store: string, now = Date.now()): boolean {
  const at = known(root)[store];
  return at !== undefined && now - at < FOR_MS && at <= now;
}

function save(root: string, doc: Record<string, number>): void {
  try {
    const dir = cacheDir(root);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `${FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    writeFileSync(tmp, JSON.stringify(doc));
    renameSync(tmp, join(dir, FILE));
  } catch {
    // unwritable: the next run probes again
  }
}

export const rememberHonours = (root: string, store: string, now = Date.now()): void => save(root, { ...known(root), [store]: now });

export function forgetHonours(root: string, store: string): void {
  const { [store]: _gone, ...rest } = known(root);
  save(root, rest);
}
