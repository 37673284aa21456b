#!/usr/bin/env node
// Starts the CLI from dist/cli-script.js (the whole CLI as one classic script) compiled with V8's code
// cache, kept per labsync build, node version and command in the user's cache folder
// ($XDG_CACHE_HOME/labsync, else ~/.cache/labsync): Node 20 caches no compiled code for ES modules,
// and compiling what a run loads cost ~50 ms of CPU each time. A cache that is missing, rejected by V8
// or unwritable only costs that compile; anything wrong with the script itself falls back to the ES
// module build (dist/cli.js), as does LABSYNC_CODE_CACHE=0 (`report`: say on stderr which it was).
// This file is CommonJS (bin/package.json): node starts a CommonJS entry without its ES module loader,
// ~10 ms of CPU less on every run (measured with perf stat, 20 runs each).
'use strict';
const { spawn } = require('node:child_process');
const { createHash, randomBytes } = require('node:crypto');
const { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { homedir, userInfo } = require('node:os');
const { dirname, join, resolve } = require('node:path');
const { constants: vmConstants, Script } = require('node:vm');

const dist = join(__dirname, '..', 'dist');

function cacheFolder() {
  const base = process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME.startsWith('/') ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'labsync');
}

/** The CLI's exports from the script, or undefined when it cannot be used (then the ESM build runs). */
function fromScript() {
  // The script's own import() (@parcel/watcher, left outside the bundle) needs node's loader (≥ 20.13).
  const loader = vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (process.env.LABSYNC_CODE_CACHE === '0' || !loader) return undefined;
  const file = join(dist, 'cli-script.js');
  let source;
  let st;
  try {
    st = statSync(file);
    // ASCII by construction (scripts/build-script.mjs): latin1 is the same text without decoding UTF-8.
    source = readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
  // A build is its file's identity: V8 itself only checks the source's length, not its bytes.
  const build = `cli-${st.dev}-${st.ino}-${st.size}-${Math.round(st.mtimeMs)}-${process.version}-${process.arch}`;
  // One cache per command: each holds the functions its own first run compiled.
  const command = (process.argv.slice(2).find((a) => /^[a-z]+$/.test(a)) ?? 'none').slice(0, 20);
  let folder;
  try {
    folder = cacheFolder();
  } catch {
    folder = undefined; // no home to speak of: compiled every run
  }
  // A cache another user could have written is code this process would run: none is read from such a folder.
  const cacheFile = folder && join(folder, `${build}-${command}.v8cache`);
  const trusted = folder !== undefined && existsSync(folder) && trustedFolder(folder);
  let cachedData;
  try {
    if (cacheFile && trusted) cachedData = readFileSync(cacheFile);
  } catch {
    // none yet: made at exit
  }
  let script;
  const module = { exports: {} };
  try {
    script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, importModuleDynamically: loader, ...(cachedData ? { cachedData } : {}) });
    script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dist);
  } catch {
    return undefined;
  }
  if (typeof module.exports.main !== 'function') return undefined;
  // For tests and measurements: whether this start compiled or took the cache.
  if (process.env.LABSYNC_CODE_CACHE === 'report') process.stderr.write(`code cache: ${!cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'used'}\n`);
  if (cacheFile && (!cachedData || script.cachedDataRejected)) {
    // At exit the cache holds what this run compiled too, not only the top level.
    process.once('exit', () => {
      try {
        mkdirSync(folder, { recursive: true, mode: 0o700 });
        if (!trustedFolder(folder)) return;
        const tmp = `${cacheFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
        // 'wx': never through a name someone placed there first (a symlink to a file of this user's).
        writeFileSync(tmp, script.createCachedData(), { flag: 'wx', mode: 0o600 });
        renameSync(tmp, cacheFile);
        // Caches of other builds (an upgrade, another node) unused for a week go; two installs in use
        // side by side keep theirs.
        const weekAgo = Date.now() - 7 * 24 * 3600 * 1000;
        for (const name of readdirSync(folder)) {
          const other = join(folder, name);
          if (name.startsWith('cli-') && name.endsWith('.v8cache') && !name.startsWith(`${build}-`) && statSync(other).mtimeMs < weekAgo) unlinkSync(other);
          // A temporary file a killed start left (each start's has a name of its own).
          else if (name.startsWith('cli-') && name.endsWith('.tmp') && statSync(other).mtimeMs < Date.now() - 24 * 3600 * 1000) unlinkSync(other);
        }
      } catch {
        // a read-only home: every run compiles, as without the cache
      }
    });
  }
  return module.exports;
}

/**
 * The ssh sessions this command line opened last time, started now, before the CLI loads: the host's
 * login is the longest wait of a run over ssh, and it goes on while node compiles the CLI. Each only
 * logs in and waits for its go line; the engine uses it where it would start exactly that command
 * (after the lock and hooks), and kills any it did not use (src/exec/early.ts). The hint is kept per
 * command line, folder and environment (a digest of them names its file) and used only while the
 * manifest it names is byte for byte the same. LABSYNC_EARLY_SSH=0: none.
 */
function earlySessions() {
  if (process.env.LABSYNC_EARLY_SSH === '0' || process.platform === 'win32') return undefined;
  // watch runs its pairs only when files change, maybe never: a session started now would wait unused for its whole life.
  if (process.argv.slice(2).includes('watch')) return undefined;
  let hintFile;
  let sharedFile;
  try {
    // A shell's own bookkeeping (the last command, the folder before) changes between runs and not the session.
    const env = Object.entries(process.env).filter(([k]) => k !== '_' && k !== 'OLDPWD').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = createHash('sha256').update(JSON.stringify([process.argv.slice(2), process.cwd(), env])).digest('hex').slice(0, 32);
    hintFile = join(cacheFolder(), `session-${key}.json`);
    // The sessions any run in this folder and environment opened last: a pair's ssh command is made
    // from the manifest, the pair and the environment, not from the verb (cron's push then check open
    // the very same one), so a command line's first run starts those. A wrong guess (another pair, a
    // verb that opens none) costs one login that is killed unused, and only until its own hint exists.
    const shared = createHash('sha256').update(JSON.stringify(['any', process.cwd(), env])).digest('hex').slice(0, 32);
    sharedFile = join(cacheFolder(), `session-any-${shared}.json`);
    // Hints name programs to start: only from a folder nobody else could have written in.
    if (existsSync(dirname(hintFile)) && !trustedFolder(dirname(hintFile))) return undefined;
  } catch {
    return undefined; // no home, or no current folder: nothing early
  }
  const own = readHint(hintFile);
  // Only verbs that run pairs try the shared hint, and only before their command line has its own.
  const shared = own === 'none' && PAIR_VERBS.has(process.argv.slice(2).find((a) => !a.startsWith('-')) ?? '') ? readHint(sharedFile) : 'none';
  const from = own !== 'none' ? 'own' : shared !== 'none' ? 'shared' : undefined;
  const hint = from === 'own' ? own : from === 'shared' ? shared : undefined;
  if (!hint || hint === 'unsafe') return { hintFile, sharedFile, early: [] }; // none yet: this run writes it
  const early = [];
  try {
    // The sessions of the manifest this command line will read, and only while it is as it was.
    if (!hint.manifest || manifestNow() !== hint.manifest || createHash('sha256').update(readFileSync(hint.manifest)).digest('hex') !== hint.manifestDigest) return { hintFile, sharedFile, ...(from === 'own' ? { hint } : { shared: hint }), early };
    for (const s of hint.sessions.slice(0, 4)) {
      if (!socketSafe(s.args)) continue;
      const child = spawn(s.program, s.args, { cwd: s.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const errs = [];
      child.stderr.on('data', (b) => errs.push(b));
      child.stdin.on('error', () => undefined);
      const ended = new Promise((resolve) => {
        child.on('error', () => resolve({ code: 127, signal: null }));
        child.on('close', (code, signal) => resolve({ code: code ?? 128, signal }));
      });
      // Never what keeps labsync running: the engine refs the one it takes.
      child.unref();
      for (const stream of [child.stdin, child.stdout, child.stderr]) stream.unref?.();
      early.push({ program: s.program, args: s.args, cwd: s.cwd, child, errs, ended });
    }
  } catch {
    // a hint of another shape, or a folder gone: what started is used or killed as usual
  }
  // However labsync ends, no early session outlives it.
  process.once('exit', () => {
    for (const e of early) {
      try {
        process.kill(-e.child.pid, 'SIGKILL');
      } catch {
        // gone already, or taken and ended
      }
    }
  });
  return { hintFile, sharedFile, ...(from === 'own' ? { hint } : { shared: hint }), early };
}

/**
 * A session that rides a kept connection (ControlPath=, src/engine/ssh-keep.ts) only while the socket's
 * folder is still this user's alone, as the engine checks it (src/state/ssh-sockets.ts: the same
 * verdicts, pinned by src/state/socket-folder-pin.test.ts): a socket someone else could have put there
 * would be handed this session. A near-copy, not an import: bin must not load the build to start these.
 */
function socketSafe(args) {
  const word = args.find((a) => typeof a === 'string' && a.startsWith('ControlPath='));
  if (!word) return true;
  const path = word.slice('ControlPath='.length);
  const dir = dirname(path);
  // ssh expands %-tokens and ${VAR} in a ControlPath: the socket would be elsewhere than the folder checked.
  if (/%|\$\{/.test(dir)) return false;
  // sun_path: ssh binds <path>.<16 characters> first, and the NUL ends it (Linux 108 bytes, elsewhere 104).
  if (Buffer.byteLength(path) + 17 >= (process.platform === 'linux' ? 108 : 104)) return false;
  try {
    return trustedFolder(dir);
  } catch {
    return false;
  }
}

/**
 * A folder of this user's that nobody else could have written in or swapped for their own: it, and every
 * folder above it on the path as given and on its real path, is this user's or root's and not writable by
 * group or others (but for a root-owned sticky folder above it, /tmp). A near-copy of
 * src/state/trusted-folder.ts, pinned by src/state/socket-folder-pin.test.ts.
 */
function trustedFolder(dir) {
  if (!process.getuid) return true;
  const uid = process.getuid();
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return false;
    for (const start of new Set([resolve(dir), realpathSync(dir)])) {
      for (let p = dirname(start); ; p = dirname(p)) {
        const up = lstatSync(p);
        if (!up.isSymbolicLink()) {
          if (!up.isDirectory() || (up.uid !== uid && up.uid !== 0)) return false;
          const sticky = up.uid === 0 && (up.mode & 0o1000) !== 0;
          if (!sticky && ((up.mode & 0o002) !== 0 || ((up.mode & 0o020) !== 0 && up.gid !== ownPrivateGroup()))) return false;
        }
        if (dirname(p) === p) break;
      }
    }
    return true;
  } catch {
    return false;
  }
}

let privateGid = null;

/** This user's own group if no one else is in it (user-private groups: umask 002 leaves ~/.cache 0775). A near-copy of src/state/trusted-folder.ts. */
function ownPrivateGroup() {
  if (privateGid !== null) return privateGid;
  privateGid = undefined;
  try {
    const gid = process.getgid();
    const me = userInfo().username;
    const groups = readFileSync('/etc/group', 'utf8').split('\n');
    const users = readFileSync('/etc/passwd', 'utf8').split('\n');
    // NIS compat lines (+/-) bring members these files do not list: nothing counts as private then.
    if ([...groups, ...users].some((l) => l.startsWith('+') || l.startsWith('-'))) return undefined;
    // The user-private-group convention: named as the user (Debian's `users`, gid 100, lists none of
    // the directory service's users who share it).
    const group = groups.map((l) => l.split(':')).find((f) => Number(f[2]) === gid && f[2] !== '');
    if (!group || group[0] !== me || (group[3] || '').split(',').some((m) => m && m !== me)) return undefined;
    const others = users.map((l) => l.split(':')).some((f) => f[3] === String(gid) && f[0] !== me);
    if (!others) privateGid = gid;
  } catch {
    // unreadable: no group counts as private
  }
  return privateGid;
}

/**
 * The manifest this command line will read, as src/manifest/find.ts finds it: -c/--config (the last one
 * given), else $LABSYNC_CONFIG, else labsync.yaml/.yml searched upward. undefined where bin cannot tell
 * (a group of short options holding c): then nothing is started early.
 */
function manifestNow() {
  const args = process.argv.slice(2);
  // `--` may be an option's value (`--log-file -- -c other.yaml` reads other.yaml): where it stands
  // is commander's to say, so no guess is made and nothing starts early.
  if (args.includes('--')) return undefined;
  let given;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-c' || a === '--config') given = args[++i];
    else if (a.startsWith('--config=')) given = a.slice('--config='.length);
    else if (/^-[A-Za-z]*c/.test(a) && !a.startsWith('--')) return undefined;
  }
  given ??= process.env.LABSYNC_CONFIG || undefined;
  if (given !== undefined) return resolve(process.cwd(), given);
  for (let dir = resolve(process.cwd()); ; dir = dirname(dir)) {
    for (const name of ['labsync.yaml', 'labsync.yml']) if (existsSync(join(dir, name))) return join(dir, name);
    if (dirname(dir) === dir) return undefined;
  }
}

/** The commands that run pairs (src/cli.ts): the only ones a shared hint is started for. */
const PAIR_VERBS = new Set(['sync', 'check', 'code', 'data', 'models', 'plan', 'apply', 'drain']);

/** A hint file read: 'none' (not there, or not readable as one), 'unsafe' (not only this user's), or the hint. */
function readHint(file) {
  try {
    // The hint names a program to start: only one this user wrote, that no one else may change.
    // lstat: a symlink there could point at another project's hint.
    const st = lstatSync(file);
    if (!st.isFile() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) return 'unsafe';
    const hint = JSON.parse(readFileSync(file, 'utf8'));
    return hint && Array.isArray(hint.sessions) ? hint : 'none';
  } catch {
    return 'none';
  }
}

if (require.main === module) {
  const start = earlySessions();
  const cli = fromScript();
  if (cli) cli.main(process.argv, start);
  else import('../dist/cli.js').then((m) => m.main(process.argv, start));
} else {
  // Required, not run (a test): what it checks, and nothing started.
  module.exports = { socketSafe, trustedFolder, manifestNow };
}
