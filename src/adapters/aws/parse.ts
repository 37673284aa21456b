// Pure: aws-cli output → changes, listings, stats, progress. Fixtures: fixtures/tool-output/aws-1.45.11/
import { z } from 'zod';
import type { Entry } from '../../verify/compare.js';
import type { Progress, TransferStats } from '../types.js';

const Listing = z.object({
  Contents: z.array(z.object({ Key: z.string(), Size: z.number(), ETag: z.string().optional(), LastModified: z.string().optional() })).optional(),
});

/**
 * Objects under `prefix/`, as paths relative to it; the backup prefix is left out. aws-cli follows
 * the continuation tokens itself and prints one document (list-objects-v2-paged.json: three pages of 2).
 * LastModified is the upload time in whole seconds, kept for the record: the plan compares ETags.
 */
export function parseListing(stdout: string, prefix: string): Entry[] {
  const text = stdout.trim();
  if (!text) return [];
  const base = prefix ? `${prefix}/` : '';
  return (Listing.parse(JSON.parse(text)).Contents ?? [])
    .filter((o) => o.Key.startsWith(base) && !o.Key.endsWith('/'))
    .map((o) => {
      const mtimeMs = o.LastModified ? Date.parse(o.LastModified) : NaN;
      return { path: o.Key.slice(base.length), size: o.Size, ...(Number.isNaN(mtimeMs) ? {} : { mtimeMs }), ...(o.ETag ? { etag: o.ETag.replace(/"/g, '') } : {}) };
    })
    .filter((e) => !e.path.startsWith('.labsync-backup/'));
}

/**
 * "(dryrun) upload: LOCAL to s3://b/p/KEY", "download: s3://b/p/KEY to LOCAL", "delete: s3://b/p/KEY" or
 * "delete: LOCAL". Local paths are printed relative to aws's working folder: `localPrefix` is that form.
 */
export function parseActions(stdout: string, remoteUrl: string, localPrefix: string): { transfer: string[]; delete: string[] } {
  const transfer: string[] = [];
  const deleted: string[] = [];
  const local = localPrefix ? `${localPrefix}/` : '';
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/^\(dryrun\) /, '');
    const m = /^(upload|download|delete|copy): (.*)$/.exec(line);
    if (!m) continue;
    const [, verb, rest] = m as unknown as [string, string, string];
    if (verb === 'delete') {
      const path = rest.startsWith(remoteUrl) ? rest.slice(remoteUrl.length) : rest.startsWith(local) ? rest.slice(local.length) : undefined;
      if (path !== undefined) deleted.push(path);
      continue;
    }
    const at = verb === 'upload' ? rest.lastIndexOf(` to ${remoteUrl}`) : rest.lastIndexOf(` to ${local}`);
    if (at < 0) continue;
    transfer.push(verb === 'upload' ? rest.slice(at + 4 + remoteUrl.length) : rest.slice(at + 4 + local.length));
  }
  return { transfer, delete: deleted };
}

const UNITS: Record<string, number> = { Bytes: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
// "Completed 512.0 KiB/8.6 MiB (34.0 MiB/s) with 1 file(s) remaining"
const COMPLETED = /Completed ([\d.]+) (Bytes|KiB|MiB|GiB|TiB)\/([\d.]+) (Bytes|KiB|MiB|GiB|TiB)(?: \(([^)]+)\))?(?: with (\d+) file\(s\) remaining)?/;

export function parseProgress(line: string): Progress | undefined {
  const m = COMPLETED.exec(line);
  if (!m) return undefined;
  const done = Number(m[1]) * (UNITS[m[2] as string] ?? 1);
  const total = Number(m[3]) * (UNITS[m[4] as string] ?? 1);
  return { bytes: Math.round(done), percent: total ? Math.floor((done / total) * 100) : 0, ...(m[5] ? { rate: m[5] } : {}) };
}

export function parseStats(stdout: string): TransferStats {
  const files = stdout.split(/\r?\n/).filter((l) => /^(upload|download|copy): /.test(l)).length;
  let bytes = 0;
  for (const piece of stdout.split(/[\r\n]/)) {
    const p = COMPLETED.exec(piece);
    if (p) bytes = Math.max(bytes, Math.round(Number(p[3]) * (UNITS[p[4] as string] ?? 1)));
  }
  return { files, bytes };
}

export function parseVersion(text: string): string | undefined {
  return /aws-cli\/(\S+)/.exec(text)?.[1];
}
