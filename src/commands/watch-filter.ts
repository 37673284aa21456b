// Which watcher events matter to a pair: pure but for naming folders (links resolved, a .git file read). The native watcher is told the cheap excludes so it can
// skip whole excluded folders, but labsync's own matcher judges every path it reports.
import { lstatSync, realpath as realpathCallback, realpathSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join, relative, resolve, sep } from 'node:path';
import { ownExcludes } from '../adapters/own-excludes.js';
import { foldersAbove } from '../adapters/dvc/root.js';
import type { ResolvedPair } from '../types.js';
import { compileExcludes, type Matcher } from '../verify/glob.js';

/** Never a reason to run: labsync's own folders, rsync's partials, a repo's and dvc's internals. */
export const ALWAYS_IGNORED = ['/.labsync/', '/.labsync-backup/', '.rsync-partial/', '/.git/', '/.dvc/cache/'];

/** What a pair's watch looks at, and which of what it sees starts a run. */
export interface WatchedTree {
  /** The folder subscribed to. */
  readonly top: string;
  /** The path a run names for an event (relative to the pair's folder), or undefined: no reason to run. */
  judge(path: string, isDir: boolean | undefined): string | undefined;
  /** A folder that needs no watch of its own (nor its subfolders). */
  skipDir(dir: string): boolean;
  /** @parcel/watcher's cheap ignores. */
  readonly ignore: readonly string[];
  /** Said once at the start. */
  readonly notes: readonly string[];
}

/**
 * `local`: the pair's folder with its symlinks resolved, `top`: the folder subscribed to (watchedPlace); `outputs`: the files this watch writes itself.
 * A git pair pushes commits: a save only dirties its tree (the push is refused), and a commit touches
 * only .git, so its watch looks at the branch refs alone: a moved ref is a commit to push (review 49:
 * watch never pushed a code pair).
 */
export function watchedTree(pair: Pick<ResolvedPair, 'local' | 'root' | 'tool' | 'exclude'>, { local, top }: { local: string; top: string }, outputs: readonly string[]): WatchedTree {
  if (pair.tool === 'git') {
    return { top, judge: (path) => gitRefPath(top, path), skipDir: (dir) => !gitRefFolder(top, dir), ignore: ['objects', 'logs', 'hooks', 'info', 'lfs', 'modules', 'worktrees'].map((d) => join(top, d)), notes: [] };
  }
  // ownExcludes: the manifest's .labsync/ where it lies below the pair's top (`local: ..`): its logs,
  // state and receipts, written by every run, started the next one without end. So did this watch's
  // own output in the folder (`labsync watch >> watch.out`, nohup.out, --log-file): left out of what
  // starts a run, still pushed by one (review 49).
  const base = [...pair.exclude, ...ownExcludes(pair), ...ALWAYS_IGNORED];
  const baseMatcher = compileExcludes(base);
  const mine = outputs.flatMap((file) => {
    const rel = pairPath(local, baseMatcher, file, false);
    return rel === undefined ? [] : [rel];
  });
  const excludes = [...base, ...mine.map((rel) => `/${rel.replace(/[*?[\\]/g, '\\$&')}`)];
  const matcher = compileExcludes(excludes);
  return {
    top: local,
    judge: (path, isDir) => pairPath(local, matcher, path, isDir),
    skipDir: (dir) => pairPath(local, matcher, dir, true) === undefined,
    ignore: nativeIgnores(local, excludes),
    notes: mine.map((rel) => `${rel} is this watch's own output: its changes start no run (a run still pushes it)`),
  };
}

/**
 * fs.realpath's own (JavaScript) resolution, as realpathSync gives it, through libuv's threads: the
 * native one (fs.promises.realpath) gives the case stored on disk on macOS and Windows and a mapped
 * drive's UNC path, which never equalled what the watch was subscribed at (review 56: re-watched and
 * pushed every 2 s).
 */
const realpath = promisify(realpathCallback);

/**
 * The folder holding a repo's branch refs: `.git`, or where a `.git` file points (a worktree, a submodule,
 * `--separate-git-dir`: `gitdir: …`), and from a worktree's git folder on to the common one (`commondir`),
 * where its branches are (review 50: such a pair's watch had been put on the `.git` file, and saw nothing).
 * Asked through libuv's threads: the 2-second looks must not block the event loop on a network folder (review 55).
 */
export async function gitRefsDir(local: string): Promise<string> {
  const dotGit = join(local, '.git');
  let gitDir = dotGit;
  // A folder (EISDIR), a link to one (review 51), or none: watched where it leads, its absence said.
  const line = await readFile(dotGit, 'utf8').then((text) => /^gitdir: (.+)$/m.exec(text), () => null);
  if (line) gitDir = resolve(local, (line[1] as string).trim());
  // Not a worktree's: its own refs.
  const common = await readFile(join(gitDir, 'commondir'), 'utf8').catch(() => undefined);
  if (common !== undefined) gitDir = resolve(gitDir, common.trim());
  return realpath(gitDir).catch(() => gitDir);
}

/**
 * Where a pair's watch looks now: its folder as the kernel names it (a watch on a symlinked folder's link
 * saw nothing, silently: review 49), and the folder subscribed to (a git pair's refs). The subscription
 * and the 2-second looks both ask this, so what they compare can never differ (review 56).
 */
export async function watchedPlace(pair: Pick<ResolvedPair, 'local' | 'tool'>): Promise<{ local: string; top: string }> {
  const local = await realpath(pair.local).catch(() => resolve(pair.local));
  return { local, top: pair.tool === 'git' ? await gitRefsDir(local) : local };
}

/** Which folder is at `path` now (device and inode: another folder made there, or a disk mounted on it, differs), asked off the event loop; undefined: none. */
export const folderId = (path: string): Promise<string | undefined> => stat(path).then((st) => `${st.dev}:${st.ino}`, () => undefined);

/**
 * watchedPlace with the folder there now (folderId): what watch's looks compare (folder-answers.ts asks
 * it for them). A dvc pair's `repo` too: the folder holding the .dvc/ nearest above the pair's folder as
 * written (`written`, where `local` is the path a walk resolved), as engine/run.ts and the dvc adapter find
 * it. watch's turns compare it, and it is asked here, off watch's event loop (review 71, 72).
 */
export async function placeOf(pair: Pick<ResolvedPair, 'local' | 'tool'> & { readonly written?: string }): Promise<{ local: string; top: string; id: string | undefined; repo?: string }> {
  const place = await watchedPlace(pair);
  const repo = pair.tool === 'dvc' ? await dvcRepoAbove(pair.written ?? pair.local) : undefined;
  return { ...place, id: await folderId(place.top), ...(repo ? { repo } : {}) };
}

/** adapters/dvc/root.ts's dvcRepoSync, with stats off the event loop. */
async function dvcRepoAbove(local: string): Promise<string | undefined> {
  for (const dir of foldersAbove(local)) if (await stat(join(dir, '.dvc')).then(() => true, () => false)) return dir;
  return undefined;
}

/**
 * In a repo's git folder: a branch's ref (loose or packed), as `.git/…`; else undefined. A ref's `.lock`
 * is git's write in progress; HEAD moves without a commit (a checkout, a rebase, a bisect), so it is not one.
 * A repo whose refs are a reftable (git 2.45's `--ref-format=reftable`) names its new tables in
 * `reftable/tables.list` on every ref move, HEAD's too: a checkout there starts a run that finds nothing
 * to push (review 53: such a repo's watch had been deaf).
 */
export function gitRefPath(gitDir: string, path: string): string | undefined {
  const rel = relative(gitDir, path).split(sep).join('/');
  return rel === 'packed-refs' || rel === 'reftable/tables.list' || (rel.startsWith('refs/heads/') && !rel.endsWith('.lock')) ? `.git/${rel}` : undefined;
}

/** Whether a folder of a repo's .git can hold a branch's ref (the only ones a git pair's watch needs). */
export function gitRefFolder(gitDir: string, dir: string): boolean {
  const rel = relative(gitDir, dir).split(sep).join('/');
  return rel === '' || rel === 'refs' || rel === 'refs/heads' || rel.startsWith('refs/heads/') || rel === 'reftable';
}

export type WatchEventType = 'create' | 'update' | 'delete';

/**
 * @parcel/watcher ignore paths for a pair's excludes: only the anchored patterns without wildcards
 * ("/.git/", "/build"), which it skips by a cheap prefix test, folder and contents. Glob patterns are
 * left to the matcher: as native regular expressions each one is tried on every path of the tree, and
 * five of them doubled the time to be ready on 50k files. (A folder-only one, "/.git/", also hides a
 * file of that exact name from the watcher: the next run still pushes it.)
 */
export function nativeIgnores(local: string, patterns: readonly string[]): string[] {
  return patterns
    .filter((p) => p.startsWith('/') && !/[*?[\]]/.test(p))
    .map((p) => join(local, p.replace(/^\/+/, '').replace(/\/+$/, '')));
}

/**
 * The event's path relative to the pair's folder ("/" separators), or undefined when the pair would
 * not send it: outside the folder, the folder itself, excluded, or inside an excluded folder.
 * `isDir` is unknown for a deleted path: it is then judged as a file, so a deletion never goes unpushed.
 */
export function pairPath(local: string, matcher: Matcher, path: string, isDir: boolean | undefined): string | undefined {
  const rel = relative(local, path).split(sep).join('/');
  if (rel === '' || rel === '..' || rel.startsWith('../')) return undefined;
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) if (matcher.excludes(parts.slice(0, i).join('/'), true)) return undefined;
  return matcher.excludes(rel, isDir ?? false) ? undefined : rel;
}

/** A line's worth of the changed paths: the first few names and how many more (`uncounted`: changes past the paths kept). */
export function describeChanged(paths: readonly string[], shown = 5, uncounted = 0): string {
  const head = paths.slice(0, shown).join(', ');
  const rest = paths.length - Math.min(shown, paths.length) + uncounted;
  const total = paths.length + uncounted;
  return `${total}${uncounted ? '+' : ''} changed path${total === 1 ? '' : 's'}: ${head}${rest ? ` and ${rest} more` : ''}`;
}

/** The folder with its symlinks resolved (as it is when it does not exist yet: subscribing then says so). */
export function realFolder(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** The files this watch writes itself: its stdout and stderr where they are files (a redirect, nohup.out), and its --log-file. */
export function ownOutputs(logFile: string | undefined): string[] {
  const out: string[] = [];
  for (const fd of [1, 2]) {
    try {
      const file = realpathSync(`/proc/self/fd/${fd}`);
      if (statSync(file).isFile()) out.push(file);
    } catch {
      // Not Linux, or a pipe or terminal: nothing written into a folder.
    }
  }
  if (logFile) out.push(realFolder(logFile));
  return [...new Set(out)];
}

/** A path that is gone again by the time its event is read counts as a file (see pairPath). */
export function isDirectory(path: string): boolean | undefined {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return undefined;
  }
}
