// Pure: one page of S3's ListObjectsV2 XML → entries (labsync lists S3 itself, see exec/s3-list.ts).
// Fixtures: fixtures/tool-output/s3-api/*-list-objects-v2-page*.xml, recorded from moto 5.2 and versitygw.
import type { Entry } from '../../verify/compare.js';

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML text → string: the five named entities and numeric references. */
export function unescapeXml(s: string): string {
  return s.includes('&')
    ? s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
        e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : (ENTITY[e] as string))
    : s;
}

const field = (block: string, name: string): string | undefined => {
  const at = block.indexOf(`<${name}>`);
  if (at < 0) return undefined;
  const end = block.indexOf(`</${name}>`, at);
  return end < 0 ? undefined : unescapeXml(block.slice(at + name.length + 2, end));
};

export interface ListPage { readonly entries: Entry[]; readonly next?: string }

/**
 * Objects under `prefix/` as paths relative to it (the backup prefix and "folder" keys left out), and
 * the continuation token when the listing goes on. Anything but a ListBucketResult is an error.
 */
export function parseListPage(xml: string, prefix: string): ListPage {
  if (!xml.includes('<ListBucketResult')) throw new Error(`not a ListObjectsV2 answer: ${xml.slice(0, 200)}`);
  const base = prefix ? `${prefix}/` : '';
  const entries: Entry[] = [];
  for (let at = xml.indexOf('<Contents>'); at >= 0; at = xml.indexOf('<Contents>', at + 10)) {
    const end = xml.indexOf('</Contents>', at);
    if (end < 0) throw new Error('a ListObjectsV2 answer cut short');
    const block = xml.slice(at, end);
    const key = field(block, 'Key');
    const size = Number(field(block, 'Size'));
    if (key === undefined || !Number.isFinite(size)) throw new Error(`an object without a key or size in the listing: ${block.slice(0, 200)}`);
    if (!key.startsWith(base) || key.endsWith('/')) continue;
    const path = key.slice(base.length);
    if (path.startsWith('.labsync-backup/') || path === '.labsync-lock') continue;
    const uploadedMs = Date.parse(field(block, 'LastModified') ?? '');
    const etag = field(block, 'ETag')?.replace(/"/g, '');
    // versitygw lists an empty <ChecksumAlgorithm> for an object it holds no checksum of.
    const checksums = [...block.matchAll(/<ChecksumAlgorithm>([^<]*)<\/ChecksumAlgorithm>/g)].map((m) => m[1] as string).filter(Boolean);
    entries.push({ path, size, ...(Number.isNaN(uploadedMs) ? {} : { uploadedMs }), ...(etag ? { etag } : {}), ...(checksums.length ? { checksums } : {}) });
  }
  const truncated = field(xml, 'IsTruncated') === 'true';
  const next = truncated ? field(xml, 'NextContinuationToken') : undefined;
  if (truncated && !next) throw new Error('a truncated ListObjectsV2 answer without a continuation token');
  return { entries, ...(next ? { next } : {}) };
}
