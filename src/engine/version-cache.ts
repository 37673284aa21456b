// Tool versions remembered on disk, so a run does not start each tool to ask (aws behind a pyenv shim:
// ~0.45 s of CPU per `aws --version`). An entry holds for the binary key it was asked under
// (exec/binary-key.ts: realpath + stat of the binary and of what a `#!` script runs, pyenv's pick) and
// for at most a day, for what the key cannot see (a wrapper that finds its real tool at run time).
//
// Kept in the project's .labsync/cache, beside the hash caches, not in the user's cache dir: every run
// already makes and owns that folder, `rm -rf .labsync` forgets it with the rest, and a run never writes
// outside the project (CI and cron often have a HOME that is read-only, shared or thrown away). The
// price is one probe per project per tool change, which is what a run pays today every time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../state/paths.js';
import { writeCacheFile } from '../verify/cache-file.js';

export const VERSION_TTL_MS = 24 * 60 * 60 * 1000;
const FILE = 'tool-versions.json';

interface Entry { readonly version: string; readonly at: number }
type Entries = Record<string, Entry>;

export const versionCacheFile = (root: string): string => join(cacheDir(root), FILE);

function readEntries(root: string): Entries {
  try {
    const doc = JSON.parse(readFileSync(versionCacheFile(root), 'utf8')) as { v?: unknown; entries?: unknown };
    if (doc?.v !== 1 || typeof doc.entries !== 'object' || doc.entries === null) return {};
    return doc.entries as Entries;
  } catch {
    return {}; // missing or damaged: asked afresh, and rewritten whole
  }
}

const fresh = (e: unknown, nowMs: number): e is Entry =>
  typeof e === 'object' && e !== null && typeof (e as Entry).version === 'string' && (e as Entry).version !== '' &&
  typeof (e as Entry).at === 'number' && nowMs - (e as Entry).at < VERSION_TTL_MS && (e as Entry).at <= nowMs + 60_000;

/** The version remembered for this exact binary key, if it is younger than a day. */
export function rememberedVersion(root: string, key: string, nowMs = Date.now()): string | undefined {
  const e = readEntries(root)[key];
  return fresh(e, nowMs) ? e.version : undefined;
}

/** Remember a version just asked; stale entries (other binaries, past their day) are dropped on the way. */
export async function rememberVersion(root: string, key: string, version: string, nowMs = Date.now()): Promise<void> {
  const kept = Object.fromEntries(Object.entries(readEntries(root)).filter(([, e]) => fresh(e, nowMs)));
  kept[key] = { version, at: nowMs };
  // A cache: a folder that cannot be written costs the next run one probe, nothing else.
  await writeCacheFile(versionCacheFile(root), JSON.stringify({ v: 1, entries: kept }), undefined);
}
