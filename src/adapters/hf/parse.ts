// Pure: hf's output → entries, commit ids, versions. The listing is list-tree.ts's JSON.
import { z } from 'zod';
import { lazy } from '../../util/lazy.js';
import type { RemoteEntries } from '../types.js';
import type { Entry } from '../../verify/compare.js';
import { compileExcludes } from '../../verify/glob.js';

const Listed = lazy(() => z.object({
  revision: z.string().regex(/^[0-9a-f]{40}$/),
  /** The branch is not made yet; `revision` is the default branch's head it will be made from. */
  unmade: z.string().optional(),
  files: z.array(z.object({ path: z.string(), size: z.number().int().min(0), blob: z.string(), sha256: z.string().optional() })),
}));

/** A file is excluded by a pattern on its path or on any folder above it (rsync's reading). */
function excluder(patterns: readonly string[]): (path: string) => boolean {
  const m = compileExcludes(patterns);
  return (path) => {
    if (m.excludes(path, false)) return true;
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) if (m.excludes(path.slice(0, i), true)) return true;
    return false;
  };
}

/**
 * The repo's files under the pair's subfolder, relative to it, without those the pair excludes (so a
 * mirror never deletes them): the pair's own patterns, and the Hub's `.gitattributes` (which paths go
 * to LFS), which own-excludes.ts lists for hf pairs.
 */
export function parseListing(stdout: string, sub: string, excludes: readonly string[] = []): RemoteEntries {
  const doc = Listed().parse(JSON.parse(stdout.trim().split('\n').pop() ?? ''));
  const prefix = sub ? `${sub}/` : '';
  const excluded = excluder(excludes);
  const entries: Entry[] = [];
  for (const f of doc.files) {
    if (!f.path.startsWith(prefix)) continue;
    const path = f.path.slice(prefix.length);
    if (excluded(path)) continue;
    entries.push(f.sha256 ? { path, size: f.size, sha256: f.sha256 } : { path, size: f.size, gitSha1: f.blob });
  }
  return Object.assign(entries, { revision: doc.revision, ...(doc.unmade ? { unset: `the branch ${doc.unmade} is not made yet` } : {}) });
}

/** list-tree.ts's failure document: {"error": kind, "message": [...]}. */
export function parseListError(stdout: string): { kind: string; message: string } | undefined {
  try {
    const doc = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { error?: unknown; message?: unknown };
    if (typeof doc.error !== 'string') return undefined;
    return { kind: doc.error, message: Array.isArray(doc.message) ? doc.message.join(' ') : String(doc.message ?? '') };
  } catch {
    return undefined;
  }
}

/** `hf upload --json` → {"url": ".../commit/<sha>"}: the commit the push made (or the last one, when nothing changed). */
export function parseUploadCommit(stdout: string): string | undefined {
  return /\/commit\/([0-9a-f]{40})\b/.exec(stdout)?.[1];
}

/** `hf version` → "version: 2.4.0" (with colour codes when a terminal asks). */
export function parseVersion(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  return /version:\s*(\d[\w.+-]*)/.exec(text.replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
}
