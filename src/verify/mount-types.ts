// Whether a tree lies wholly on file systems that stamp ctime with this machine's clock (changed-since.ts):
// the mount holding its root and every mount inside it, from /proc/self/mountinfo (Linux). A network or
// FUSE file system stamps with its server's clock (or its own), so there the tree is listed whole.
import { readFileSync, realpathSync } from 'node:fs';

/** Kernel file systems whose timestamps come from this kernel's clock. */
const LOCAL = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'ramfs', 'overlay', 'zfs', 'f2fs', 'bcachefs', 'jfs', 'reiserfs', 'nilfs2']);

export interface Mount { readonly point: string; readonly type: string }

/** mountinfo's lines → mount points (octal escapes undone: "\040" is a space) and types, in its order. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0) continue;
    out.push({ point: (f[4] as string).replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))), type: f[dash + 1] as string });
  }
  return out;
}

const within = (path: string, point: string): boolean => point === '/' || path === point || path.startsWith(`${point}/`);

/** Whether `root` (a real path) and everything mounted under it is on a LOCAL file system, by `mounts`. */
export function localIn(mounts: readonly Mount[], root: string): boolean {
  let holder: Mount | undefined;
  for (const m of mounts) {
    // The last mount on the longest point holding root is the one seen there (mounts stack).
    if (within(root, m.point) && (!holder || m.point.length >= holder.point.length)) holder = m;
    else if (m.point.startsWith(`${root === '/' ? '' : root}/`) && !LOCAL.has(m.type)) return false;
  }
  return !!holder && LOCAL.has(holder.type);
}

/** Whether the tree at `root` is wholly on local file systems; false where that cannot be told (not Linux, unreadable). */
export function onLocalDisks(root: string): boolean {
  try {
    return localIn(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')), realpathSync(root));
  } catch {
    return false;
  }
}
