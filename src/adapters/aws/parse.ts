// Pure: aws-cli output → changes, listings, stats, progress. Fixtures: fixtures/tool-output/aws-1.45.11/
import { z } from 'zod';
import { lazy } from '../../util/lazy.js';
import type { Entry } from '../../verify/compare.js';
import type { StoreChecksum } from '../../verify/s3-judge.js';
import type { Progress, TransferStats } from '../types.js';

const Listing = lazy(() => z.object({
  Contents: z.array(z.object({ Key: z.string(), Size: z.number(), ETag: z.string().optional(), LastModified: z.string().optional(), ChecksumAlgorithm: z.array(z.string()).optional() })).optional(),
}));

/**
 * Objects under `prefix/`, as paths relative to it; the backup prefix is left out. aws-cli follows
 * the continuation tokens itself and prints one document (list-objects-v2-paged.json: three pages of 2).
 * LastModified is the upload time in whole seconds, kept as that (not a file's mtime): the plan compares
 * ETags, and where an ETag tells nothing, whether the file changed after its upload.
 */
export function parseListing(stdout: string, prefix: string): Entry[] {
  const text = stdout.trim();
  if (!text) return [];
  const base = prefix ? `${prefix}/` : '';
  return (Listing().parse(JSON.parse(text)).Contents ?? [])
    .filter((o) => o.Key.startsWith(base) && !o.Key.endsWith('/'))
    .map((o) => {
      const uploadedMs = o.LastModified ? Date.parse(o.LastModified) : NaN;
      return {
        path: o.Key.slice(base.length), size: o.Size,
        ...(Number.isNaN(uploadedMs) ? {} : { uploadedMs }),
        ...(o.ETag ? { etag: o.ETag.replace(/"/g, '') } : {}),
        // versitygw lists [""] for an object it holds no checksum of.
        ...(o.ChecksumAlgorithm?.some(Boolean) ? { checksums: o.ChecksumAlgorithm.filter(Boolean) } : {}),
      };
    })
    .filter((e) => !e.path.startsWith('.labsync-backup/') && e.path !== '.labsync-lock');
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

/**
 * Files from the "upload:"/"download:" lines (on a terminal they follow a progress line's carriage
 * return). No bytes: the progress lines round to 0.1 KiB/MiB and are off without a terminal, so the
 * engine adds up the moved files' own sizes instead.
 */
export function parseStats(stdout: string): TransferStats {
  return { files: stdout.split(/[\r\n]/).filter((l) => /^(upload|download|copy): /.test(l)).length };
}

export function parseVersion(text: string): string | undefined {
  return /aws-cli\/(\S+)/.exec(text)?.[1];
}

const Head = lazy(() => z.object({ ChecksumSHA256: z.string().optional(), ChecksumCRC32: z.string().optional() }));

/**
 * `head-object --checksum-mode ENABLED`: the object's additional checksum, SHA-256 preferred. A
 * multipart object's composite checksum is printed "BASE64-N" by AWS (not by every server): the
 * suffix goes, the value is compared against both forms (s3-checksum.ts).
 */
export function parseHead(stdout: string): StoreChecksum | undefined {
  const text = stdout.trim();
  if (!text) return undefined;
  const h = Head().parse(JSON.parse(text));
  const bare = (v: string): string => v.replace(/-\d+$/, '');
  if (h.ChecksumSHA256) return { algorithm: 'SHA256', value: bare(h.ChecksumSHA256) };
  if (h.ChecksumCRC32) return { algorithm: 'CRC32', value: bare(h.ChecksumCRC32) };
  return undefined;
}
