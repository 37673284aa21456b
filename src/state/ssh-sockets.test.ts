import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderProblem, socketFits, socketFolder, socketPathMax } from './ssh-sockets.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

describe('the socket folder', () => {
  it('fits a socket with ssh\'s temporary suffix and the NUL inside sun_path (108 on Linux, 104 elsewhere)', () => {
    expect(socketPathMax('linux')).toBe(108);
    expect(socketPathMax('darwin')).toBe(104);
    const dir = (n: number): string => `/${'d'.repeat(n - 1)}`;
    // 69 + '/' + 20 + '.' + 16 = 107 bytes: fits Linux, not macOS.
    expect(socketFits(dir(69), 20, 'linux')).toBe(true);
    expect(socketFits(dir(70), 20, 'linux')).toBe(false);
    expect(socketFits(dir(65), 20, 'darwin')).toBe(true);
    expect(socketFits(dir(66), 20, 'darwin')).toBe(false);
    expect(socketFits(`/home/${'é'.repeat(40)}/.cache/labsync/ssh`, 20, 'linux')).toBe(false); // bytes, not characters
  });

  it('is used only when it is a folder of this user\'s that nobody else may write in', () => {
    const st = (mode: number, uid = 1000, dir = true) => ({ isDirectory: () => dir, uid, mode });
    expect(folderProblem(st(0o40700), 1000)).toBeUndefined();
    expect(folderProblem(st(0o40755), 1000)).toBeUndefined();
    expect(folderProblem(st(0o40770), 1000)).toMatch(/writable by group or others/);
    expect(folderProblem(st(0o40707), 1000)).toMatch(/writable by group or others/);
    expect(folderProblem(st(0o40700, 0), 1000)).toMatch(/another user/);
    expect(folderProblem(st(0o120777, 1000, false), 1000)).toMatch(/not a folder/);
  });

  it('is not used (nor made) where its path holds what ssh expands in a ControlPath: % tokens, ${VAR}', () => {
    const base = tempDir('ls-');
    for (const cache of [join(base, 'a%h'), join(base, 'b${HOME}')]) {
      const got = socketFolder(20, { XDG_CACHE_HOME: cache });
      expect(got).toEqual({ off: `${join(cache, 'labsync', 'ssh')} holds % or \${, which ssh would expand in the socket's path` });
      expect(existsSync(cache)).toBe(false);
    }
    expect(socketFolder(20, { XDG_CACHE_HOME: join(base, 'plain') })).toEqual({ dir: join(base, 'plain', 'labsync', 'ssh') });
  });
});
