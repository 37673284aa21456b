// Pure: hf's output → entries, commit ids, versions. The listing is list-tree.ts's JSON.
import { z } from 'zod';
import type { RemoteEntries } from '../types.js';
import type { Entry } from '../../verify/compare.js';

const Listed = z.object({
  revision: z.string().regex(/^[0-9a-f]{40}$/),
  files: z.array(z.object({ path: z.string(), size: z.number().int().min(0), blob: z.string(), sha256: z.string().optional() })),
});

/**
 * The repo's files under the pair's subfolder, relative to it. At the repo's root, `.gitattributes`
 * is the Hub's own file (which paths go to LFS), not the user's data: left out, so a mirror never
 * deletes it.
 */
export function parseListing(stdout: string, sub: string): RemoteEntries {
  const doc = Listed.parse(JSON.parse(stdout.trim().split('\n').pop() ?? ''));
  const prefix = sub ? `${sub}/` : '';
  const entries: Entry[] = [];
  for (const f of doc.files) {
    if (!f.path.startsWith(prefix)) continue;
    const path = f.path.slice(prefix.length);
    if (!prefix && path === '.gitattributes') continue;
    entries.push(f.sha256 ? { path, size: f.size, sha256: f.sha256 } : { path, size: f.size, gitSha1: f.blob });
  }
  return Object.assign(entries, { revision: doc.revision });
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
