// A mirror whose folder holds another pair's folder: its pull's deletions would remove that pair's files
// (one pulled there, one written since, its backups), and the two pairs would undo each other on every
// run (review 37). A mirror pull over such a folder is refused, naming the exclude that keeps it the
// inner pair's own; pushes, and every other pair, run as before.
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { ResolvedPair } from '../types.js';
import { compileExcludes } from '../verify/glob.js';

/** A child name no exclude written for real files targets: only a pattern that takes every name under a folder matches it. */
const ANY_CHILD = '\u0001';

/**
 * Whether the excludes leave folder `rel` out, judged by the matcher the plan and the walker use (a
 * second reading of the patterns had taken `./ckpt/` as covering, which excludes nothing, and refused
 * `**` plus `/ckpt`, which does, review 40): the folder or one above it excluded as a folder, or every name
 * inside it (`ckpt/**`, `ckpt/*`).
 */
export function covers(exclude: readonly string[], rel: string): boolean {
  const m = compileExcludes(exclude);
  const parts = rel.split('/');
  if (parts.some((_, i) => m.excludes(parts.slice(0, i + 1).join('/'), true))) return true;
  return m.excludes(`${rel}/${ANY_CHILD}`, false) && m.excludes(`${rel}/${ANY_CHILD}`, true);
}

/** Whether the excludes leave file `rel` out: the file itself, or a folder above it. */
function coversFile(exclude: readonly string[], rel: string): boolean {
  const m = compileExcludes(exclude);
  const parts = rel.split('/');
  return m.excludes(rel, false) || parts.slice(0, -1).some((_, i) => m.excludes(parts.slice(0, i + 1).join('/'), true));
}

/** Whether `rel` (relative() of two folders) lies outside the first: `..` or below it (a folder named `..cache` is inside, review 63). */
const outside = (rel: string): boolean => rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) || /^[A-Za-z]:/.test(rel);

/** Whether `rel` (relative() of two folders) lies strictly inside the first. */
const within = (rel: string): boolean => Boolean(rel) && !outside(rel);

/** How nestedThroughLinks names a folder that did not answer (realFolders): no exclude fixes it. */
const SILENT = 'the folder that did not answer: ';

/** A folder with its links resolved as the kernel does (`link/..` is above the link's target); one not made yet: its nearest folder above that is, and the rest as written. */
export function realFolder(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    const up = dirname(path);
    return up === path ? path : join(realFolder(up), basename(path));
  }
}

/** How long a pair folder may take to be resolved before a run goes on without it (a network file system whose server is down). */
export const REAL_MS = 5000;

/**
 * Each folder with its links resolved (realFolder), asked of `realpath -m` (GNU coreutils) in a process of
 * its own under REAL_MS: undefined for one that has not answered by then. Resolved in this process, a
 * folder on a dead network mount blocked the whole run in the kernel, signals and every other pair too
 * (review 63). Where no GNU realpath runs (macOS), resolved here.
 */
export async function realFolders(paths: readonly string[], ms = REAL_MS, signal?: AbortSignal): Promise<Map<string, string | undefined>> {
  const unique = [...new Set(paths)];
  const got: (string | undefined | 'here')[] = [];
  // The run stopped (Ctrl-C, SIGTERM): no folder more is asked, and those out are killed and answer
  // nothing at once (with many dead folders a stop had waited out every batch of 16, 5 s each).
  // One listener on the run's signal for them all (one per child warned of a leak past ten).
  const out = new Set<() => void>();
  const stopAll = (): void => {
    for (const stop of [...out]) stop();
  };
  signal?.addEventListener('abort', stopAll, { once: true });
  const one = (path: string): Promise<string | undefined | 'here'> => new Promise((done) => {
    if (signal?.aborted) return done(undefined);
    let child: ReturnType<typeof execFile> | undefined;
    const stop = (): void => {
      child?.kill('SIGKILL');
      end(undefined);
    };
    const end = (answer: string | undefined | 'here'): void => {
      clearTimeout(timer);
      out.delete(stop);
      done(answer);
    };
    // Its own timer too: a child stuck where SIGKILL cannot reach (a FUSE wait) never closes.
    const timer = setTimeout(() => end(undefined), ms + 200);
    // In labsync's group: a Ctrl-C or a group's stop ends it too (review 65: in a group of its own, one stuck
    // outlived labsync). Killed so (no exit code), it is no answer, never resolved here (review 64).
    child = execFile('realpath', ['-m', '-z', '--', path], { timeout: ms, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) => {
      if (signal?.aborted) return end(undefined);
      if (!error && stdout.endsWith('\0')) return end(stdout.slice(0, -1));
      // Killed (the bound, a signal): no answer, whatever it said first (review 67: busybox names -m at once,
      // then waited on the dead folder, which was then resolved here).
      if (error && (error.killed || error.signal)) return end(undefined);
      // Here only where no GNU realpath runs (none at all, or one without -m: macOS, busybox); an error of
      // the folder itself (EIO, ENOTCONN of a dead mount) is no answer (review 65).
      // busybox reads -m, -z and -- as names: it answers lines without NULs, or names -m in its error (review 66).
      const first = stderr.split('\n')[0] ?? '';
      const noGnu = (error as NodeJS.ErrnoException | null)?.code === 'ENOENT' || (!error && !stdout.endsWith('\0')) || /^(realpath: ((illegal|invalid|unrecognized|unknown) option|-[mz]: )|usage:)/i.test(first);
      end(noGnu ? 'here' : undefined);
    });
    out.add(stop);
  });
  // At most 16 at once (a login node's process limit; a loaded machine's healthy folders kept under the bound).
  let next = 0;
  try {
    await Promise.all(Array.from({ length: Math.min(16, unique.length) }, async () => {
      for (let i = next++; i < unique.length; i = next++) got[i] = await one(unique[i] as string);
    }));
  } finally {
    signal?.removeEventListener('abort', stopAll);
  }
  // Stopped meanwhile: nothing is resolved here either, where a dead folder would hold the stop (review 69).
  return new Map(unique.map((path, i) => [path, got[i] === 'here' && !signal?.aborted ? realFolder(path) : got[i] === 'here' ? undefined : got[i]]));
}

/**
 * The pairs whose folder lies inside a mirror's only through a symlink (either folder a link, or one
 * above it), not excluded: `category.name (folder/)` as nestedUncovered names them. nestedUncovered
 * reads the folders as written (what the resolved manifest, cached between runs, may hold); the links
 * are looked at here as they are now, before a mirror pull (its deletions would have emptied the inner
 * pair's folder, a link not being a folder to the manifest's paths).
 */
export function nestedThroughLinks(outer: ResolvedPair, pairs: readonly ResolvedPair[], real: ReadonlyMap<string, string | undefined>): string[] {
  if (!outer.delete || outer.tool === 'git' || outer.tool === 'dvc') return [];
  const top = real.get(outer.local);
  const out: string[] = [];
  for (const inner of pairs) {
    if (inner.name === outer.name && inner.category === outer.category) continue;
    const written = relative(outer.local, inner.local);
    // Inside as written and not excluded: nestedUncovered's. Excluded as written, it may still lie elsewhere
    // in the folder through a link there (review 63: `latest/ckpt` excluded, rsync deleted `latest` and its target's files).
    if (within(written) && !covers(outer.exclude, written.split(sep).join('/'))) continue;
    const there = real.get(inner.local);
    // Not known to lie outside: refused as if inside, saying why (a pull of it deletes blind).
    if (top === undefined || there === undefined) {
      out.push(`${SILENT}${top === undefined ? `this pair's own (${outer.local})` : `that of ${inner.category}.${inner.name} (${inner.local})`}`);
      if (top === undefined) break;
      continue;
    }
    const rel = relative(top, there);
    if (!within(rel)) continue;
    const folder = rel.split(sep).join('/');
    if (!covers(outer.exclude, folder)) out.push(`${inner.category}.${inner.name} (${folder}/)`);
  }
  return out;
}

/**
 * Each mirror pair's folders of other pairs it does not exclude (`category.name (folder/)`). Only a
 * pull deletes in the local folder, so only a mirror's pull is refused over them (run-pair.ts); a push
 * deletes at its own remote.
 */
export function nestedUncovered(pairs: readonly ResolvedPair[]): Map<ResolvedPair, string[]> {
  const out = new Map<ResolvedPair, string[]>();
  for (const outer of pairs) {
    // git and dvc pairs delete nothing in the folder; a pair that deletes nothing only adds files.
    if (!outer.delete || outer.tool === 'git' || outer.tool === 'dvc') continue;
    // The manifest's own folder inside the mirror's (`local: .`): its pull would delete the manifest
    // and the clone's .git, which the remote does not have (review 41).
    const toRoot = relative(outer.local, outer.root);
    if (!outside(toRoot)) {
      const at = toRoot ? `${toRoot.split(sep).join('/')}/` : '';
      const file = `${at}${basename(outer.source.path ?? outer.source.file)}`;
      // The clone's .git may be the manifest folder's or one above it, up to the pair's top (a manifest
      // in config/ of a repository, review 45): covered at both ends, as an unanchored `.git/` covers it.
      // An hf pair never takes .git (own-excludes.ts).
      const git = outer.tool === 'hf' || [`${at}.git`, '.git'].every((g) => covers(outer.exclude, g));
      const own = [...(git ? [] : [`the clone's .git (.git/)`]), ...(coversFile(outer.exclude, file) ? [] : [`the manifest (${file})`])];
      if (own.length) out.set(outer, own);
    }
    for (const inner of pairs) {
      if (inner === outer) continue;
      const rel = relative(outer.local, inner.local);
      if (!within(rel)) continue;
      const folder = rel.split(sep).join('/');
      if (covers(outer.exclude, folder)) continue;
      out.set(outer, [...(out.get(outer) ?? []), `${inner.category}.${inner.name} (${folder}/)`]);
    }
  }
  return out;
}

/** The refusal of a mirror pull over folders of other pairs, naming them and the exclude that fixes it. */
export function nestedRefusal(all: readonly string[]): string {
  const silent = all.filter((n) => n.startsWith(SILENT)).map((n) => n.slice(SILENT.length));
  const nested = all.filter((n) => !n.startsWith(SILENT));
  const unknown = silent.length ? `a folder did not answer within ${REAL_MS / 1000}s (a network file system whose server is down?): ${silent.join(', ')}; a mirror pull is not run without knowing which pairs' folders lie inside its own` : '';
  if (!nested.length) return `${unknown}; nothing was changed. Run it again once the folder answers`;
  // The clone's .git unanchored (it may sit at the pair's top or in the manifest's folder below it).
  const excludes = nested.map((n) => (n.startsWith("the clone's .git") ? '".git/"' : `"/${/\(([^)]*)\)$/.exec(n)?.[1] ?? ''}"`));
  const things = nested.map((n) => (n.startsWith('the ') ? n : `the pair ${n}`));
  const pairsOnly = nested.every((n) => !n.startsWith('the '));
  const what = pairsOnly ? `${nested.length === 1 ? 'its' : 'their'} files and backups` : 'them';
  return `this mirror's folder holds ${things.join(', ')}: a mirror pull would delete ${what}${unknown ? `; ${unknown}` : ''}; nothing was changed. Add exclude: [${excludes.join(', ')}] to this pair, or set delete: false`;
}

/**
 * A remote folder on this machine that is the pair's own folder, or inside it or around it: a push
 * compared the folder with itself and said in sync, or copied the copy into itself on every run
 * (review 41). Textual, as the rest of the manifest's paths.
 */
export function overlapOf(pair: ResolvedPair): string | undefined {
  if (pair.remote.type !== 'local') return undefined;
  const there = pair.remote.path;
  if (relative(pair.local, there) === '') return `the remote folder ${there} is this pair's own folder: nothing would be copied anywhere`;
  const inside = (a: string, b: string): boolean => within(relative(a, b));
  // Excluded from the pair (a snapshot folder kept out of its own copy), it is no part of what is copied (review 45).
  if (inside(pair.local, there) && !covers(pair.exclude, relative(pair.local, there).split(sep).join('/'))) return `the remote folder ${there} is inside this pair's folder ${pair.local}: each run would copy the copy into itself (or exclude it)`;
  if (inside(there, pair.local)) return `this pair's folder ${pair.local} is inside its remote folder ${there}: each run would copy the folder into itself`;
  return undefined;
}
