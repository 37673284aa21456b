// The resolved manifest, remembered between runs: a run whose manifest, environment and folder are as
// last time takes the resolved pairs from a small JSON file instead of parsing the YAML and running the
// schema and the rules again (~15 ms of CPU of a no-op push, most of it zod's first use). Everything
// resolution reads is in the key, so a stale entry is never used: the manifest's bytes (sha256), its
// path, the working folder (names in messages are relative to it), the home folder (`~/` paths), every
// environment variable resolution looked up (name and value, set or not), and this build of labsync.
// Only a manifest that resolved without a problem is remembered; any doubt (no entry, another key, a
// file of another shape, one not this user's alone) means the usual load, quietly.
// A manifest that interpolates a secret-named variable, or resolves to anything the logs would hide (a
// secret's value, a URL's password), is not remembered (it would be at rest in the file). The file is
// written 0600 and used only when this user owns it and no one else may write it (it holds the hooks
// labsync runs). LABSYNC_MANIFEST_CACHE=0 turns it off.
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { ManifestError } from '../errors.js';
import { isSecretName, makeRedactor } from '../exec/redact.js';
import { trustedFolder } from '../state/trusted-folder.js';
import type { Manifest } from '../types.js';
import { VERSION } from '../version.js';
import { displayName, loadManifestText, manifestText } from './load.js';

/** Bumped when what an entry holds changes shape. */
const FORMAT = 1;

interface Entry {
  readonly format: number;
  readonly build: string;
  readonly file: string;
  readonly cwd: string;
  readonly home: string;
  readonly digest: string;
  /** The variables resolution looked up, and a digest of their values then (never the values). */
  readonly envNames: readonly string[];
  readonly envDigest: string;
  readonly manifest: Manifest;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** The user's cache folder, as bin/labsync.js finds it: $XDG_CACHE_HOME/labsync, else ~/.cache/labsync. */
export function userCacheFolder(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache');
  return join(base, 'labsync');
}

let build: string | undefined;
/** This build of labsync: the file this code was loaded from (a rebuild or an upgrade rewrites it). */
function buildId(): string {
  if (build === undefined) {
    const st = statSync(fileURLToPath(import.meta.url));
    build = `${VERSION}-${st.dev}-${st.ino}-${st.size}-${Math.round(st.mtimeMs)}`;
  }
  return build;
}

const envDigestOf = (names: readonly string[], env: NodeJS.ProcessEnv): string => sha256(JSON.stringify(names.map((n) => [n, env[n] ?? null])));

/** Where the entry for this manifest read from this folder lives. */
export function entryFile(folder: string, file: string, cwd: string): string {
  return join(folder, `manifest-${sha256(JSON.stringify([file, cwd])).slice(0, 32)}.json`);
}

export interface CacheOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** The working folder (names in messages are relative to it). */
  readonly cwd?: string;
  /** The cache folder (default: the user's, userCacheFolder). */
  readonly folder?: string;
}

/** The manifest at `file`, resolved: from the entry when its key still holds, else loaded (and remembered). */
export function loadManifestCached(file: string, o: CacheOptions = {}): Manifest {
  const env = o.env ?? process.env;
  const cwd = o.cwd ?? process.cwd();
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new ManifestError([{ file: displayName(file, cwd), line: 1, col: 1, message: `cannot read: ${(error as Error).message}` }]);
  }
  const text = manifestText(bytes, displayName(file, cwd));
  if (env.LABSYNC_MANIFEST_CACHE === '0') return loadManifestText(text, file, env, cwd);
  let where: string | undefined;
  let key: Omit<Entry, 'envNames' | 'envDigest' | 'manifest'> | undefined;
  try {
    where = entryFile(o.folder ?? userCacheFolder(env), file, cwd);
    key = { format: FORMAT, build: buildId(), file, cwd, home: homedir(), digest: sha256(bytes) };
    const hit = readEntry(where, key, env);
    if (hit) return hit;
  } catch {
    // no home, no cache folder, no build file to stat: loaded as without the cache
  }
  const names = new Set<string>();
  // Every variable resolution looks up is noted: it is part of the key.
  const watched = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') names.add(name);
      return Reflect.get(target, name);
    },
  });
  const manifest = loadManifestText(text, file, watched, cwd);
  if (where && key && ![...names].some(isSecretName)) writeEntry(where, { ...key, envNames: [...names].sort(), envDigest: envDigestOf([...names].sort(), env), manifest }, env);
  return manifest;
}

function readEntry(where: string, key: Omit<Entry, 'envNames' | 'envDigest' | 'manifest'>, env: NodeJS.ProcessEnv): Manifest | undefined {
  let raw: string;
  try {
    const st = lstatSync(where);
    // It names commands labsync runs (hooks): only an entry this user wrote, that no one else may change,
    // in a folder no one else could have put it in (lstat: nor a symlink to another of this user's files).
    if (!st.isFile() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0 || !trustedFolder(dirname(where))) return undefined;
    raw = readFileSync(where, 'utf8');
  } catch {
    return undefined; // none yet
  }
  const e = JSON.parse(raw) as Partial<Entry>;
  if (e.format !== key.format || e.build !== key.build || e.file !== key.file || e.cwd !== key.cwd || e.home !== key.home || e.digest !== key.digest) return undefined;
  if (!Array.isArray(e.envNames) || !e.envNames.every((n) => typeof n === 'string') || e.envDigest !== envDigestOf(e.envNames, env)) return undefined;
  const m = e.manifest;
  if (!m || typeof m !== 'object' || m.file !== key.file || !Array.isArray(m.pairs)) return undefined;
  return m;
}

function writeEntry(where: string, entry: Entry, env: NodeJS.ProcessEnv): void {
  try {
    const json = JSON.stringify(entry);
    // A value JSON cannot carry as it is (an undefined, a non-finite number) would come back changed: not remembered.
    if (!isDeepStrictEqual((JSON.parse(json) as Entry).manifest, entry.manifest)) return;
    // Nor anything the logs would hide: a secret-named variable's value, wherever it came from, or a URL's password.
    if (makeRedactor(env)(json) !== json) return;
    const folder = join(where, '..');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    if (!trustedFolder(folder)) return;
    const tmp = `${where}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, json, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, where);
    prune(folder);
  } catch {
    // a read-only cache folder: every run loads the manifest, as without the cache
  }
}

const DAY_MS = 24 * 3600 * 1000;
const MONTH_MS = 30 * DAY_MS;

/** Entries not rewritten for a month go (each manifest and folder has its own file). */
function prune(folder: string): void {
  const monthAgo = Date.now() - MONTH_MS;
  for (const name of readdirSync(folder)) {
    // A temporary file a killed run left (each run's has a name of its own) goes after a day.
    const tmp = name.endsWith('.tmp');
    if (!name.startsWith('manifest-') || !(tmp || name.endsWith('.json'))) continue;
    try {
      if (statSync(join(folder, name)).mtimeMs < (tmp ? Date.now() - DAY_MS : monthAgo)) unlinkSync(join(folder, name));
    } catch {
      // another run pruned it first
    }
  }
}
