// A folder that stops answering (test/harness/dead-fuse.py): every access under it waits until
// `revive` closes the connection, after which they fail with ENOTCONN. Root and /dev/fuse only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./dead-fuse.py', import.meta.url));

/** Whether this machine lets a test mount a FUSE file system (root, /dev/fuse, python3). */
export const canMountFuse = process.getuid?.() === 0 && existsSync('/dev/fuse') && spawnSync('python3', ['-c', 'import ctypes']).status === 0;

export interface DeadFolder {
  /** Closes the connection: what waited fails (ENOTCONN), the mount is detached. Safe to call twice. */
  revive(): Promise<void>;
}

/** Mounts the dead file system on `dir` (made if missing); resolves once it is mounted. */
export async function deadFolder(dir: string): Promise<DeadFolder> {
  mkdirSync(dir, { recursive: true });
  const py = spawn('python3', [SCRIPT, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => py.once('exit', () => resolve()));
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
