import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { binaryKey } from '../exec/binary-key.js';
import { makeRedactor } from '../exec/redact.js';
import { VERSION_TTL_MS, versionCacheFile } from './version-cache.js';
import { forgetVersions, versionOf } from './versions.js';

let dir: string;
let root: string;
let bin: string;
const savedPath = process.env.PATH;
const redact = makeRedactor({});

// A real rsync stand-in first on PATH: a shell script that prints a version and counts its starts.
function fakeRsync(version: string): void {
  const file = join(bin, 'rsync');
  const tmp = `${file}.new`;
  writeFileSync(tmp, `#!/bin/sh\necho x >> '${join(dir, 'starts')}'\necho "rsync  version ${version}  protocol version 32"\n`);
  chmodSync(tmp, 0o755);
  renameSync(tmp, file); // a new inode, as a package manager's upgrade gives
}
const starts = (): number => {
  try {
    return readFileSync(join(dir, 'starts'), 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};
/** A new run of labsync: nothing held in memory, only what is on disk. */
const nextRun = (): Promise<string | undefined> => {
  forgetVersions();
  return versionOf('rsync', redact, root);
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'labsync-versions-'));
  root = join(dir, 'project');
  bin = join(dir, 'bin');
  mkdirSync(root);
  mkdirSync(bin);
  process.env.PATH = `${bin}:${savedPath}`;
});
afterEach(() => {
  process.env.PATH = savedPath;
  forgetVersions();
  rmSync(dir, { recursive: true, force: true });
});

describe('tool versions remembered across runs', () => {
  it('asks once across two runs, and again when the binary changes', async () => {
    fakeRsync('3.9.1');
    expect(await nextRun()).toBe('3.9.1');
    expect(await nextRun()).toBe('3.9.1');
    expect(starts()).toBe(1);
    fakeRsync('3.9.2'); // replaced
    expect(await nextRun()).toBe('3.9.2');
    expect(starts()).toBe(2);
    // Rewritten in place, same size, only its times change.
    utimesSync(join(bin, 'rsync'), new Date(), new Date(Date.now() + 5000));
    expect(await nextRun()).toBe('3.9.2');
    expect(starts()).toBe(3);
    expect(await nextRun()).toBe('3.9.2');
    expect(starts()).toBe(3);
  });

  it('asks again when the entry is older than a day', async () => {
    fakeRsync('3.9.1');
    await nextRun();
    const file = versionCacheFile(root);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, { at: number }> };
    for (const e of Object.values(doc.entries)) e.at -= VERSION_TTL_MS + 1;
    writeFileSync(file, JSON.stringify(doc));
    expect(await nextRun()).toBe('3.9.1');
    expect(starts()).toBe(2);
  });

  it('a damaged or foreign cache file is ignored and rewritten, no crash', async () => {
    fakeRsync('3.9.1');
    mkdirSync(join(root, '.labsync', 'cache'), { recursive: true });
    for (const junk of ['{"v":1,"entries":', 'null', '[1,2]', '{"v":1,"entries":{"x":{"version":7}}}', '\u0000\u0001']) {
      writeFileSync(versionCacheFile(root), junk);
      expect(await nextRun()).toBe('3.9.1');
    }
    expect(starts()).toBe(5);
    expect(await nextRun()).toBe('3.9.1');
    expect(starts()).toBe(5);
  });

  it('without a project folder nothing is written, and a tool that prints no version is not remembered', async () => {
    writeFileSync(join(bin, 'rsync'), `#!/bin/sh\necho x >> '${join(dir, 'starts')}'\necho nonsense\n`);
    chmodSync(join(bin, 'rsync'), 0o755);
    expect(await nextRun()).toBeUndefined();
    expect(await nextRun()).toBeUndefined();
    expect(starts()).toBe(2);
    forgetVersions();
    fakeRsync('3.9.1');
    expect(await versionOf('rsync', redact)).toBe('3.9.1');
  });
});

describe('binaryKey', () => {
  it('follows a #! script to its interpreter, and a pyenv shim to the version it picks', () => {
    const pyenv = join(dir, 'pyenv');
    const shims = join(pyenv, 'shims');
    mkdirSync(shims, { recursive: true });
    const exe = (path: string, text: string): void => {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text);
      chmodSync(path, 0o755);
    };
    exe(join(pyenv, 'versions', '1.0', 'bin', 'python'), '#!/bin/sh\n');
    exe(join(pyenv, 'versions', '2.0', 'bin', 'python'), '#!/bin/sh\n');
    exe(join(pyenv, 'versions', '1.0', 'bin', 'tool'), `#!${join(pyenv, 'versions', '1.0', 'bin', 'python')}\n`);
    exe(join(pyenv, 'versions', '2.0', 'bin', 'tool'), `#!${join(pyenv, 'versions', '2.0', 'bin', 'python')}\n`);
    exe(join(shims, 'tool'), `#!/usr/bin/env bash\nexport PYENV_ROOT="${pyenv}"\nexec "${pyenv}/libexec/pyenv" exec "$program" "$@"\n`);
    writeFileSync(join(pyenv, 'version'), '1.0\n');
    const env = { PATH: `${shims}:${savedPath}` };
    const cwd = join(dir, 'work');
    mkdirSync(cwd);
    const global = binaryKey('tool', env, cwd) as string;
    expect(global).toContain(join(pyenv, 'versions', '1.0', 'bin', 'tool'));
    expect(global).toContain(join(pyenv, 'versions', '1.0', 'bin', 'python'));
    const picked = binaryKey('tool', { ...env, PYENV_VERSION: '2.0' }, cwd) as string;
    expect(picked).toContain(join(pyenv, 'versions', '2.0', 'bin', 'tool'));
    writeFileSync(join(dir, '.python-version'), '2.0\n'); // in a folder above cwd
    expect(binaryKey('tool', env, cwd)).toContain(join(pyenv, 'versions', '2.0', 'bin', 'tool'));
    expect(binaryKey('tool', env, cwd)).not.toBe(picked); // which file chose it is part of the key
    // The interpreter replaced under the same script: a new key.
    const before = binaryKey('tool', env, cwd);
    exe(join(pyenv, 'versions', '2.0', 'bin', 'python'), '#!/bin/sh\n# 2.0.1\n');
    expect(binaryKey('tool', env, cwd)).not.toBe(before);
    expect(binaryKey('no-such-tool-here', env, cwd)).toBeUndefined();
  });
});
