// Which trees may be listed after a transfer from ctime (changed-since.ts): mountinfo as the kernel
// prints it, and this machine's own temp folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allLocal, mountsKey, parseMountinfo, treeMounts, treeMountsIn, unkeptChangeTimes, unkeptHostType, type Mount } from './mount-types.js';

/** Whether the tree at `root` lies wholly on local file systems, by `mounts` (as the source's listing after judges it). */
const localIn = (mounts: readonly Mount[], root: string): boolean => {
  const m = treeMountsIn(mounts, root);
  return m !== undefined && allLocal(mountsKey(m));
};
const onLocalDisks = (root: string): boolean => {
  const m = treeMounts(root);
  return m !== undefined && allLocal(m);
};

const INFO = [
  '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
  '25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683792k',
  '60 27 0:50 / /data/nfs\\040share rw,relatime shared:5 - nfs4 srv:/export rw,vers=4.2',
  '61 27 0:51 / /data/lab/fuse rw,relatime - fuse.sshfs host:/x rw',
  '62 27 0:52 / /scratch rw - xfs /dev/sdb rw',
  '63 62 0:53 / /scratch rw - nfs srv:/y rw',
].join('\n');

describe('mount types', () => {
  it('reads mount points (octal escapes undone) and types, optional fields and all', () => {
    const m = parseMountinfo(INFO);
    expect(m.map((x) => [x.point, x.type])).toEqual([['/', 'ext4'], ['/dev/shm', 'tmpfs'], ['/data/nfs share', 'nfs4'], ['/data/lab/fuse', 'fuse.sshfs'], ['/scratch', 'xfs'], ['/scratch', 'nfs']]);
    expect(m[2]).toMatchObject({ id: '60', device: '0:50', root: '/' });
  });

  it('trusts a tree on a local file system with nothing foreign mounted inside it', () => {
    const m = parseMountinfo(INFO);
    expect(localIn(m, '/home/me/data')).toBe(true);
    expect(localIn(m, '/dev/shm/x')).toBe(true);
    expect(localIn(m, '/data/labs')).toBe(true); // not /data/lab/fuse's parent
  });

  it('not a tree on a network or FUSE file system, one holding such a mount, or one under a mount stacked over a local one', () => {
    const m = parseMountinfo(INFO);
    expect(localIn(m, '/data/nfs share/ds')).toBe(false);
    expect(localIn(m, '/data/lab')).toBe(false); // sshfs mounted inside it
    expect(localIn(m, '/data')).toBe(false);
    expect(localIn(m, '/scratch/run')).toBe(false); // nfs over xfs: the last mount is the one seen
    expect(localIn([], '/x')).toBe(false);
  });

  it('gives the mounts a tree lies on, the one at its root first, as a string a later look compares with', () => {
    const m = parseMountinfo(INFO);
    expect(treeMountsIn(m, '/data/lab')?.map((x) => x.point)).toEqual(['/', '/data/lab/fuse']);
    expect(treeMountsIn(m, '/scratch/run')?.map((x) => x.type)).toEqual(['nfs']);
    expect(allLocal(mountsKey(treeMountsIn(m, '/home/me') ?? []))).toBe(true);
    expect(allLocal(mountsKey(treeMountsIn(m, '/data/lab') ?? []))).toBe(false);
    expect(treeMounts('/no/such/folder')).toBe(undefined);
  });

  it('tells another disk of the same type mounted at the same point from the one listed (its id and device)', () => {
    const swapped = INFO.replace('62 27 0:52 / /scratch rw - xfs', '91 27 8:33 / /scratch rw - xfs').replace('63 62 0:53 / /scratch rw - nfs srv:/y rw', '');
    const was = parseMountinfo(INFO.replace('63 62 0:53 / /scratch rw - nfs srv:/y rw', ''));
    const now = parseMountinfo(swapped);
    const line = (ms: ReturnType<typeof parseMountinfo>): string => mountsKey(treeMountsIn(ms, '/scratch/run') ?? []);
    expect(treeMountsIn(now, '/scratch/run')?.[0]?.type).toBe(treeMountsIn(was, '/scratch/run')?.[0]?.type);
    expect(line(now)).not.toBe(line(was));
  });

  it("finds this machine's temp folder local (the tests of the patched source rely on it)", () => {
    const d = mkdtempSync(join(tmpdir(), 'labsync-mounts-'));
    try {
      expect(onLocalDisks(d)).toBe(true);
      expect(onLocalDisks(join(d, 'not-there'))).toBe(false);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('file systems whose change times prove nothing (reviews 48, 50)', () => {
  const key = (...types: string[]): string => mountsKey(types.map((type, i) => ({ point: i ? `/data/m${i}` : '/data', type, id: String(i), device: '0:1', root: '/' })));
  it('names FUSE mounts over a remote and FAT/exFAT, anywhere in the tree; not local or change-keeping FUSE ones', () => {
    for (const t of ['fuse.sshfs', 'fuse.rclone', 'fuse.s3fs', 'fuse.gcsfuse', 'fuse.gvfsd-fuse', 'fuse.curlftpfs', 'fuseblk', 'fuse', 'vfat', 'exfat']) expect(unkeptChangeTimes(key(t)), t).toBe(t);
    expect(unkeptChangeTimes(key('ext4', 'fuse.sshfs'))).toBe('fuse.sshfs');
    for (const t of ['ext4', 'xfs', 'nfs4', 'fuse.mergerfs', 'fuse.juicefs', 'fuse.ceph-fuse', 'overlay']) expect(unkeptChangeTimes(key(t)), t).toBeUndefined();
    expect(unkeptChangeTimes(undefined)).toBeUndefined();
  });

  it("judges a host folder by the magic number statfs gives, the name only telling FUSE file systems apart (review 53: findmnt's stack order, a BSD stat's junk)", () => {
    expect(unkeptHostType('fuse.sshfs@65735546')).toBe('fuse.sshfs');
    expect(unkeptHostType('autofs@65735546')).toBe('fuse'); // the name of a mount under the one the folder shows
    expect(unkeptHostType('@65735546')).toBe('fuse'); // no findmnt
    expect(unkeptHostType('fuse.mergerfs@65735546')).toBeUndefined();
    expect(unkeptHostType('vfat@4d44')).toBe('vfat');
    expect(unkeptHostType('@2011bab0')).toBe('exfat');
    expect(unkeptHostType('fuse.sshfs@ef53')).toBeUndefined(); // the folder shows ext4, whatever findmnt's last line said
    expect(unkeptHostType('ext4@ef53')).toBeUndefined();
    // No stat answer in hex: the name alone, as before.
    expect(unkeptHostType('fuse.sshfs')).toBe('fuse.sshfs');
    expect(unkeptHostType('ext4')).toBeUndefined();
    // A mount inside the folder, by its name.
    expect(unkeptHostType('ext4@ef53+tmpfs+fuse.sshfs')).toBe('fuse.sshfs');
    expect(unkeptHostType('ext4@ef53+tmpfs+fuse.mergerfs')).toBeUndefined();
  });
});
