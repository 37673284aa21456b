// A folder that stops answering (test/harness/dead-fuse.py): every access under it waits until
// `revive` closes the connection, after which they fail with ENOTCONN. Root and /dev/fuse only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./dead-fuse.py', import.meta.url));

/**
 * Whether this machine lets a test mount a FUSE file system (root, /dev/fuse, python3, and the right
 * to mount: a container may have /dev/fuse without it): tried once, mounted and at once detached.
 */
export const canMountFuse = ((): boolean => {
  if (process.getuid?.() !== 0 || !existsSync('/dev/fuse')) return false;
  const dir = mkdtempSync(join(tmpdir(), 'labsync-fuse-'));
  try {
    const r = spawnSync('python3', [SCRIPT, dir], { input: '', timeout: 10_000 });
    return r.status === 0 && String(r.stdout).trim() === 'mounted';
  } catch {
    return false;
  } finally {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
})();

export interface DeadFolder {
  /** Closes the connection: what waited fails (ENOTCONN), the mount is detached. Safe to call twice. */
  revive(): Promise<void>;
}

/** Mounts the dead file system on `dir` (made if missing); resolves once it is mounted. */
export async function deadFolder(dir: string): Promise<DeadFolder> {
  mkdirSync(dir, { recursive: true });
  const py = spawn('python3', [SCRIPT, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => py.once('exit', () => resolve()));
  // Gone already (it detached on a signal): nothing to write to.
  py.stdin.on('error', () => undefined);
  const said = await new Promise<string>((resolve) => {
    let out = '';
    py.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    py.once('exit', () => resolve(out.trim() || 'exited'));
  });
  if (said !== 'mounted') throw new Error(`could not mount a FUSE file system on ${dir}: ${said}`);
  return {
    async revive() {
      py.stdin.end();
      await exited;
      // Killed before it detached: the mount would stay behind as "Transport endpoint is not connected".
      spawnSync('umount', ['-l', dir]);
    },
  };
}
