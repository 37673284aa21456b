// The file systems a tree lies on (changed-since.ts): the mount holding its root and every mount inside
// it, from /proc/self/mountinfo (Linux). Its listing after a transfer is taken from ctime only where
// all of them stamp ctime with this kernel's clock (a network or FUSE file system stamps with its
// server's, or its own), and only where they are the same mounts as when it was listed (a mount made or
// removed inside the tree moves no ctime).
import { readFileSync, realpathSync } from 'node:fs';

/** Kernel file systems whose timestamps come from this kernel's clock. */
const LOCAL = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'ramfs', 'overlay', 'zfs', 'f2fs', 'bcachefs', 'jfs', 'reiserfs', 'nilfs2']);

/** A mount: where, what kind, and which (its id, its device's major:minor, the folder of that device it shows). */
export interface Mount { readonly point: string; readonly type: string; readonly id: string; readonly device: string; readonly root: string }

const unescape = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** mountinfo's lines → mount points (octal escapes undone: "\040" is a space) and types, in its order. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0) continue;
    out.push({ point: unescape(f[4] as string), type: f[dash + 1] as string, id: f[0] as string, device: f[2] as string, root: unescape(f[3] as string) });
  }
  return out;
}

const within = (path: string, point: string): boolean => point === '/' || path === point || path.startsWith(`${point}/`);

/** The mounts making up the tree at `root` (a real path): the one seen at its root first, then those inside it; undefined: none holds it. */
export function treeMountsIn(mounts: readonly Mount[], root: string): Mount[] | undefined {
  let holder: Mount | undefined;
  const inside: Mount[] = [];
  for (const m of mounts) {
    // The last mount on the longest point holding root is the one seen there (mounts stack).
    if (within(root, m.point) && (!holder || m.point.length >= holder.point.length)) holder = m;
    else if (m.point.startsWith(`${root === '/' ? '' : root}/`)) inside.push(m);
  }
  return holder && [holder, ...inside];
}


/** Mounts as one comparable string: a line each, type first (allLocal reads it). */
export const mountsKey = (mounts: readonly Mount[]): string => mounts.map((m) => [m.type, m.id, m.device, m.root, m.point].join('\t')).join('\n');

/**
 * The tree's mounts now, as one comparable string (a line each: type, id, device, root, point — another
 * disk of the same type mounted at the same point differs in id and device); undefined: not known (not
 * Linux, unreadable, gone).
 */
export function treeMounts(root: string): string | undefined {
  try {
    const mounts = treeMountsIn(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')), realpathSync(root));
    return mounts && mountsKey(mounts);
  } catch {
    return undefined;
  }
}

/** Whether mounts as treeMounts gives them are all LOCAL. */
export const allLocal = (mounts: string): boolean => mounts.split('\n').every((line) => LOCAL.has(line.slice(0, line.indexOf('\t'))));

/**
 * File systems whose change time does not move on every rewrite: FUSE ones over a remote stamp their
 * own (sshfs gives ctime = mtime; rclone mount, s3fs, gcsfuse and the like fake it) and FAT/exFAT keep
 * none. There a rewrite that restores the size and mtime (`cp -p`, `rsync -a`, `touch -r` from a backup)
 * keeps a file's whole stat key (review 48). Every FUSE type is taken for one but those known to pass
 * on a real change time from a local or their own store (review 50, 51: mergerfs, JuiceFS, ceph-fuse…;
 * review 52: fuse-overlayfs, a rootless container's own root).
 * LABSYNC_TEST_UNKEPT_FS names more types, for tests on a machine without such a mount.
 */
const KEPT_FUSE = new Set(['fuse.fuse-overlayfs', 'fuse.mergerfs', 'fuse.juicefs', 'fuse.ceph-fuse', 'fuse.ceph', 'fuse.glusterfs', 'fuse.bindfs', 'fuse.gocryptfs', 'fuse.encfs', 'fuse.lxcfs', 'fuse.unionfs', 'fuse.unionfs-fuse']);
const testType = (type: string): boolean => type !== '' && (process.env.LABSYNC_TEST_UNKEPT_FS ?? '').split(',').includes(type);
const keepsNoChangeTimes = (type: string): boolean =>
  ((type === 'fuse' || type === 'fuseblk' || type.startsWith('fuse.')) && !KEPT_FUSE.has(type)) || type === 'vfat' || type === 'msdos' || type === 'exfat' || testType(type);

/** `type` itself where it is a file system whose change times prove nothing. */
const unkeptType = (type: string): string | undefined => (keepsNoChangeTimes(type) ? type : undefined);

/** statfs magic numbers in hex, as `stat -f -c %t` prints them. */
const FUSE_MAGIC = '65735546';
const FAT_MAGIC: Readonly<Record<string, string>> = { '4d44': 'vfat', '2011bab0': 'exfat' };

/**
 * A host folder's file systems as its listing names them (`name@magic`, either part possibly empty, then
 * `+name` for each mount inside it: adapters/rsync/remote.ts FS_TYPE): the first whose change times
 * prove nothing; else undefined. The magic decides whether the folder is on FUSE or FAT at all (the name
 * may be another mount's of a stack); the name only which FUSE file system, for those known to keep
 * real change times. A mount inside is judged by its name.
 */
export function unkeptHostType(fsType: string): string | undefined {
  const [own = '', ...inside] = fsType.split('+');
  return unkeptHostFolder(own) ?? inside.find(keepsNoChangeTimes);
}

function unkeptHostFolder(fsType: string): string | undefined {
  const at = fsType.lastIndexOf('@');
  const name = at < 0 ? fsType : fsType.slice(0, at);
  const magic = at < 0 ? '' : fsType.slice(at + 1);
  if (!magic) return unkeptType(name);
  if (magic === FUSE_MAGIC) return KEPT_FUSE.has(name) ? undefined : name.startsWith('fuse') ? name : 'fuse';
  const fat = FAT_MAGIC[magic];
  if (fat) return unkeptType(name) ?? fat;
  // Another file system: only a test's named type (no FUSE mount offline).
  return testType(name) ? name : undefined;
}

/** The first type among mounts as treeMounts gives them whose change times prove nothing; undefined: all do (or not known). */
export const unkeptChangeTimes = (mounts: string | undefined): string | undefined =>
  mounts?.split('\n').map((line) => line.slice(0, line.indexOf('\t'))).find(keepsNoChangeTimes);
