import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computePlan, differs, isEmptyPlan, listingOf, planBytes } from './compute.js';

const e = (path: string, size: number, mtimeMs?: number, extra: { sha256?: string; md5?: string; etag?: string } = {}) => ({ path, size, ...(mtimeMs === undefined ? {} : { mtimeMs }), ...extra });

describe('listingOf', () => {
  it('sorts in byte order and gives the same digest whatever the input order', () => {
    const a = listingOf([e('b', 1, 5), e('a/z', 2, 5), e('a', 3, 5)]);
    const b = listingOf([e('a', 3, 5), e('b', 1, 5), e('a/z', 2, 5)]);
    expect(a.entries.map((x) => x.path)).toEqual(['a', 'a/z', 'b']);
    expect(a.digest).toBe(b.digest);
  });
  it('digests a long listing line by line as before (saved plans compare it), in order or not', () => {
    const many = Array.from({ length: 30_000 }, (_, i) => e(`d${String(i % 97).padStart(2, '0')}/file-${String(i).padStart(6, '0')}.bin`, i, 1_700_000_000_000 + i, i % 3 ? {} : { md5: 'ab', etag: 'cd' }));
    const sorted = [...many].sort((a, b) => (a.path < b.path ? -1 : 1));
    const h = createHash('sha256');
    for (const x of sorted) h.update(`${x.path}\0${x.size}\0${x.mtimeMs ?? ''}\0${x.md5 ?? ''}\0${x.etag ?? ''}\n`);
    const want = h.digest('hex');
    expect(listingOf(sorted).digest).toBe(want); // over 1 MB of lines: several updates
    expect(listingOf(many).digest).toBe(want);
    expect(listingOf(many).entries).toEqual(sorted);
  });
  it('changes its digest when a size, mtime or checksum changes', () => {
    const base = listingOf([e('a', 1, 5, { md5: 'x' })]).digest;
    expect(listingOf([e('a', 2, 5, { md5: 'x' })]).digest).not.toBe(base);
    expect(listingOf([e('a', 1, 6, { md5: 'x' })]).digest).not.toBe(base);
    expect(listingOf([e('a', 1, 5, { md5: 'y' })]).digest).not.toBe(base);
    // A cached sha256 is labsync's knowledge, not the side's: knowing it or not is the same listing.
    expect(listingOf([e('a', 1, 5, { md5: 'x', sha256: 'z' })]).digest).toBe(base);
  });
});

describe('differs', () => {
  it('a checksum both sides know decides, whatever the times say', () => {
    expect(differs(e('a', 1, 5, { sha256: 'x' }), e('a', 1, 9, { sha256: 'x' }))).toBeUndefined();
    expect(differs(e('a', 1, 5, { sha256: 'x' }), e('a', 1, 5, { sha256: 'y' }))).toBe('content');
    expect(differs(e('a', 1, 5, { md5: 'x', sha256: 'p' }), e('a', 1, 5, { md5: 'y' }))).toBe('content');
  });
  it('without a common checksum: size, then mtime within the window', () => {
    expect(differs(e('a', 1, 5), e('a', 2, 5))).toBe('size');
    expect(differs(e('a', 1, 1000), e('a', 1, 1500))).toBe('mtime');
    expect(differs(e('a', 1, 1000), e('a', 1, 1500), 1000)).toBeUndefined();
    expect(differs(e('a', 1, 1000, { sha256: 'x' }), e('a', 1, 1000, { md5: 'y' }))).toBeUndefined();
  });
});

describe('differs, against a store that lists only upload times', () => {
  const up = (path: string, size: number, uploadedMs: number, md5?: string) => ({ path, size, uploadedMs, ...(md5 ? { md5 } : {}) });
  it('a push sends a same-size file changed since its upload (rclone over S3, no MD5 known): aws s3 sync\'s rule', () => {
    expect(differs(e('a', 1, 5_000), up('a', 1, 9_000))).toBeUndefined();
    expect(differs(e('a', 1, 12_000), up('a', 1, 9_000))).toBe('mtime');
    expect(differs(e('a', 1, 9_500), up('a', 1, 9_000), 1000)).toBeUndefined();
    // A checksum both know still decides first.
    expect(differs(e('a', 1, 12_000, { md5: 'x' }), up('a', 1, 9_000, 'x'))).toBeUndefined();
  });
  it('an ETag that is no MD5 (or any, under `etag: opaque`) decides nothing: the upload time does, for a push', () => {
    const md5Like = 'a'.repeat(32);
    const object = { path: 'a', size: 1, uploadedMs: 9_000, etag: md5Like };
    expect(differs(e('a', 1, 12_000, { etag: md5Like }), object)).toBeUndefined(); // the ETags are MD5s and equal
    expect(differs(e('a', 1, 12_000, { etag: md5Like }), object, 0, true)).toBe('mtime');
    expect(differs(e('a', 1, 5_000, { etag: 'b'.repeat(32) }), object, 0, true)).toBeUndefined();
    expect(differs(e('a', 1, 12_000, { etag: md5Like }), { ...object, etag: 'SHA256-abc' })).toBe('mtime');
  });
  it('multipart ETags of another part count decide nothing (another uploader\'s part size); a plain ETag is compared with the file\'s MD5', () => {
    const m = (c: string): string => c.repeat(32);
    const object = (etag: string) => ({ path: 'a', size: 9, uploadedMs: 9_000, etag });
    // 8 MiB parts here, 5 MiB there: not a content change; the upload time decides, as aws s3 sync's does.
    expect(differs(e('a', 9, 5_000, { md5: m('1'), etag: `${m('2')}-2` }), object(`${m('3')}-3`))).toBeUndefined();
    expect(differs(e('a', 9, 12_000, { md5: m('1'), etag: `${m('2')}-2` }), object(`${m('3')}-3`))).toBe('mtime');
    // As many parts: compared.
    expect(differs(e('a', 9, 5_000, { md5: m('1'), etag: `${m('2')}-2` }), object(`${m('3')}-2`))).toBe('content');
    expect(differs(e('a', 9, 5_000, { md5: m('1'), etag: `${m('2')}-2` }), object(`${m('2')}-2`))).toBeUndefined();
    // Sent whole (below aws's threshold) while this side cut it into parts: the MD5 decides, either way.
    expect(differs(e('a', 9, 12_000, { md5: m('1'), etag: `${m('2')}-2` }), object(m('1')))).toBeUndefined();
    expect(differs(e('a', 9, 5_000, { md5: m('1'), etag: `${m('2')}-2` }), object(m('4')))).toBe('content');
    // A pull the same way round.
    expect(differs(object(m('1')), e('a', 9, 5_000, { md5: m('1'), etag: `${m('2')}-2` }))).toBeUndefined();
    // A pull of another part count: the file aws-cli wrote from this object has its upload time as mtime;
    // any other mtime (the object re-uploaded since, same size) pulls it again.
    expect(differs(object(`${m('3')}-3`), e('a', 9, 9_000, { md5: m('1'), etag: `${m('2')}-2` }))).toBeUndefined();
    expect(differs(object(`${m('3')}-3`), e('a', 9, 5_000, { md5: m('1'), etag: `${m('2')}-2` }))).toBe('content');
    // As many parts of another size (another machine's part size): the same rule, never a pull on every run.
    expect(differs(object(`${m('3')}-2`), e('a', 9, 9_000, { md5: m('1'), etag: `${m('2')}-2` }))).toBeUndefined();
    expect(differs(object(`${m('3')}-2`), e('a', 9, 5_000, { md5: m('1'), etag: `${m('2')}-2` }))).toBe('content');
    // A plain ETag on a pull is the MD5: it decides whatever the mtime.
    expect(differs(object(m('1')), e('a', 9, 5_000, { md5: m('1'), etag: `${m('2')}-2` }))).toBeUndefined();
  });
  it('a pull never compares an upload time with a file\'s mtime (a pulled file keeps its own older one)', () => {
    expect(differs(up('a', 1, 9_000), e('a', 1, 5_000))).toBeUndefined();
  });
  it('an upload time is part of the listing\'s digest (a re-upload of the same size makes a saved plan stale)', () => {
    expect(listingOf([up('a', 1, 9_000)]).digest).not.toBe(listingOf([up('a', 1, 9_001)]).digest);
  });
});

describe('differs, with S3 ETags', () => {
  it('compares MD5 ETags; an ETag that is no MD5 leaves only the size (its mtime is the upload time)', () => {
    const md5 = 'a'.repeat(32);
    expect(differs(e('a', 1, 5, { etag: md5 }), e('a', 1, 9_000, { etag: `${md5}` }))).toBeUndefined();
    expect(differs(e('a', 1, 5, { etag: md5 }), e('a', 1, 5, { etag: 'b'.repeat(32) }))).toBe('content');
    expect(differs(e('a', 1, 5, { etag: md5 }), e('a', 1, 9_000, { etag: 'SHA256-abc' }))).toBeUndefined();
    expect(differs(e('a', 1, 5, { etag: md5 }), e('a', 2, 9_000, { etag: 'SHA256-abc' }))).toBe('size');
  });
});

describe('computePlan', () => {
  const source = listingOf([e('new', 10, 1), e('same', 20, 1), e('grown', 30, 1), e('flipped', 4, 1, { sha256: 'a' })]);
  const dest = listingOf([e('same', 20, 1), e('grown', 3, 1), e('flipped', 4, 1, { sha256: 'b' }), e('old', 7, 1)]);

  it('sends the new, replaces the changed (a same-size same-mtime flip by content), keeps the rest', () => {
    const p = computePlan(source, dest, { mirror: false });
    expect(p.send).toEqual([{ path: 'new', size: 10, reason: 'missing' }]);
    expect(p.replace).toEqual([{ path: 'flipped', size: 4, reason: 'content' }, { path: 'grown', size: 30, reason: 'size' }]);
    expect(p.delete).toEqual([]);
    expect(planBytes(p)).toBe(44);
    expect([p.sourceFiles, p.destFiles, p.sourceDigest, p.destDigest]).toEqual([4, 4, source.digest, dest.digest]);
  });
  it('a mirror deletes what only the destination has, with its size', () => {
    expect(computePlan(source, dest, { mirror: true }).delete).toEqual([{ path: 'old', size: 7, reason: 'extra' }]);
  });
  it('two equal listings make an empty plan', () => {
    expect(isEmptyPlan(computePlan(dest, dest, { mirror: true }))).toBe(true);
    expect(isEmptyPlan(computePlan(source, dest, { mirror: false }))).toBe(false);
  });
});
