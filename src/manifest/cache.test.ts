import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManifestError } from '../errors.js';
import { entryFile, loadManifestCached } from './cache.js';

const MANIFEST = `version: 1
remotes:
  nas:
    type: local
    path: \${NAS_ROOT:-/mnt/nas}
data:
  - name: raw
    local: data/raw
    remote: nas:raw
`;

describe('the resolved-manifest cache', () => {
  let dir: string;
  let folder: string;
  let file: string;
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ HOME: '/home/someone', ...extra });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'labsync-manifest-cache-'));
    folder = join(dir, 'cache');
    file = join(dir, 'labsync.yaml');
    writeFileSync(file, MANIFEST);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const entry = (): string => entryFile(folder, file, dir);
  const load = (e: NodeJS.ProcessEnv = env()) => loadManifestCached(file, { env: e, cwd: dir, folder });
  /** Marks the remembered copy, so a load that takes it shows the mark (a load that parses does not). */
  const mark = (): void => {
    const e = JSON.parse(readFileSync(entry(), 'utf8'));
    e.manifest.concurrency = 99;
    writeFileSync(entry(), JSON.stringify(e), { mode: 0o600 });
  };

  it('remembers a resolved manifest, 0600, and takes it while nothing it was read from changed', () => {
    const first = load();
    expect(first.pairs[0]?.remote).toEqual({ type: 'local', path: '/mnt/nas/raw' });
    expect(statSync(entry()).mode & 0o777).toBe(0o600);
    mark();
    expect(load().concurrency).toBe(99);
    // A variable the manifest does not read changes nothing.
    expect(load(env({ UNRELATED: 'x' })).concurrency).toBe(99);
    // What it holds is the manifest itself, not a variable's value.
    expect(readFileSync(entry(), 'utf8')).not.toContain('"NAS_ROOT":');
  });

  it('is not used once the manifest changed', () => {
    load();
    mark();
    writeFileSync(file, MANIFEST.replace('name: raw', 'name: raw2'));
    const m = load();
    expect(m.concurrency).toBe(2);
    expect(m.pairs[0]?.name).toBe('raw2');
  });

  it('is not used once a variable the manifest reads is set, changed or unset', () => {
    load();
    mark();
    expect(load(env({ NAS_ROOT: '/srv/a' })).pairs[0]?.remote).toEqual({ type: 'local', path: '/srv/a/raw' });
    mark();
    expect(load(env({ NAS_ROOT: '/srv/b' })).pairs[0]?.remote).toEqual({ type: 'local', path: '/srv/b/raw' });
    mark();
    expect(load(env()).pairs[0]?.remote).toEqual({ type: 'local', path: '/mnt/nas/raw' });
  });

  it('is not used from another home folder or working folder', () => {
    writeFileSync(file, MANIFEST.replace('local: data/raw', 'local: ~/raw'));
    const saved = process.env.HOME;
    try {
      // homedir() reads this process's $HOME: a home moved under the same manifest resolves again.
      process.env.HOME = '/home/someone';
      expect(load().pairs[0]?.local).toBe('/home/someone/raw');
      mark();
      expect(load().concurrency).toBe(99);
      process.env.HOME = '/home/other';
      expect(load().pairs[0]?.local).toBe('/home/other/raw');
    } finally {
      process.env.HOME = saved;
    }
    // Names in messages are relative to the working folder: another folder has an entry of its own.
    const sub = join(dir, 'cache');
    expect(loadManifestCached(file, { env: env(), cwd: sub, folder }).pairs[0]?.source.file).toBe(file);
    expect(load().pairs[0]?.source.file).toBe('labsync.yaml');
  });

  it('falls back quietly on an unreadable, corrupt or foreign-writable entry, and on a cache folder it cannot make', () => {
    load();
    writeFileSync(entry(), '{ not json', { mode: 0o600 });
    expect(load().pairs).toHaveLength(1);
    load();
    mark();
    chmodSync(entry(), 0o666); // anyone could have written it: not taken
    expect(load().concurrency).toBe(2);
    chmodSync(entry(), 0o000);
    if (process.getuid?.() !== 0) expect(load().concurrency).toBe(2); // root reads it anyway
    rmSync(folder, { recursive: true, force: true });
    writeFileSync(folder, 'a file where the folder would be');
    expect(load().pairs).toHaveLength(1);
  });

  it('remembers no manifest that failed, and none that interpolates a secret-named variable', () => {
    writeFileSync(file, MANIFEST.replace('version: 1', 'version: 2'));
    expect(() => load()).toThrow(ManifestError);
    expect(() => readdirSync(folder)).toThrow();
    writeFileSync(file, MANIFEST.replace('${NAS_ROOT:-/mnt/nas}', '${NAS_TOKEN:-/mnt/nas}'));
    load(env({ NAS_TOKEN: '/secret/path' }));
    expect(() => readdirSync(folder)).toThrow();
    // A secret's value reached through a variable of another name, or a URL's password, is not kept either.
    writeFileSync(file, MANIFEST);
    load(env({ NAS_ROOT: '/srv/hunter22', API_TOKEN: 'hunter22' }));
    expect(() => readdirSync(folder)).toThrow();
    writeFileSync(file, MANIFEST.replace('  - name: raw', '  - name: raw\n    notify: { success: "https://u:pw1234@ping.example/x" }'));
    expect(load().pairs[0]?.notify).toEqual({ success: 'https://u:pw1234@ping.example/x' });
    expect(() => readdirSync(folder)).toThrow();
  });

  it('never serves a manifest that has become invalid', () => {
    load();
    mark();
    writeFileSync(file, MANIFEST.replace('name: raw', 'name: -raw'));
    expect(() => load()).toThrow(ManifestError);
  });

  it('LABSYNC_MANIFEST_CACHE=0: neither read nor written', () => {
    load(env({ LABSYNC_MANIFEST_CACHE: '0' }));
    expect(() => readdirSync(folder)).toThrow();
    load();
    mark();
    expect(load(env({ LABSYNC_MANIFEST_CACHE: '0' })).concurrency).toBe(2);
  });
});
