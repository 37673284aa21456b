// Pure: a pair → the hf CLI's argv and environment (huggingface_hub 2.4.0, TESTBED-models.md).
import { join } from 'node:path';
import type { PairPlan } from '../../plan/types.js';
import type { Endpoint, ResolvedPair } from '../../types.js';

export type HfRemote = Extract<Endpoint, { type: 'hf' }>;

export function hfRemote(pair: ResolvedPair): HfRemote {
  if (pair.remote.type !== 'hf') throw new Error(`pair ${pair.name}: the hf tool needs a remote of type hf`);
  return pair.remote;
}

/**
 * Every hf call: no Xet (the client would send LFS files to Xet storage with no negotiation, and no
 * local Xet server exists), no telemetry, no daily update check against a package registry, no
 * progress bars (the stall watchdog watches the process's reads instead). HF_HOME: the user's own if
 * set, else inside .labsync/ — never ~/.cache/huggingface — with the CLI's login token still read
 * from its usual place.
 */
export function hfEnv(pair: Pick<ResolvedPair, 'root'>, env: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
  const home = env.HF_HOME ? {} : {
    HF_HOME: join(pair.root, '.labsync', 'hf-home'),
    // Where `hf auth login` put it: huggingface_hub's default HF_HOME is $XDG_CACHE_HOME/huggingface when that is set.
    ...(env.HF_TOKEN_PATH || !(env.XDG_CACHE_HOME || env.HOME) ? {} : { HF_TOKEN_PATH: join(env.XDG_CACHE_HOME || join(env.HOME as string, '.cache'), 'huggingface', 'token') }),
  };
  return {
    HF_HUB_DISABLE_XET: '1', HF_HUB_DISABLE_TELEMETRY: '1', HF_HUB_DISABLE_UPDATE_CHECK: '1',
    HF_HUB_DISABLE_PROGRESS_BARS: '1', DO_NOT_TRACK: '1', NO_COLOR: '1',
    // Paths as UTF-8 whatever the locale (node names files in UTF-8; under LC_ALL=C or latin-1 Python
    // would encode a non-ASCII name otherwise and find no such file).
    PYTHONUTF8: '1', ...home,
  };
}

/** hf filters are fnmatch patterns: a path's own *, ? and [ are matched literally as [*], [?], [[]. */
export const literal = (path: string): string => path.replace(/[[*?]/g, (c) => `[${c}]`);

/** Matches no relative path: an upload that only deletes sends no file ("/" never starts one). */
const NOTHING = '/';

export const typeArgs = (r: HfRemote): string[] => ['--repo-type', r.repoType];

/** The listing script comes on stdin ("-"), so commands and errors show one short line; `waitMs` bounds each connect and read. */
/** `base`: a branch not made yet is listed as the default branch it will be made from (a push's listing). */
export function listArgv(r: HfRemote, waitMs: number, base = false): string[] {
  return ['-', r.repo, r.repoType, r.revision, r.path, String(Math.max(1, Math.round(waitMs / 1000))), ...(base ? ['base'] : [])];
}

export interface CommitText { readonly summary: string; readonly description: string }

/**
 * `hf upload` of exactly the plan's files (send and replace) and its deletions, one commit. `--include`
 * and `--delete` with `=` so a path that starts with "-" stays a value; deletions are relative to the
 * subfolder, as upload_folder reads them.
 */
export function uploadArgv(pair: ResolvedPair, plan: PairPlan, text: CommitText): string[] {
  const r = hfRemote(pair);
  const sends = [...plan.send, ...plan.replace].map((f) => `--include=${literal(f.path)}`);
  return [
    'upload', r.repo, pair.local, r.path || '.', ...typeArgs(r), '--revision', r.revision,
    ...(sends.length ? sends : [`--include=${NOTHING}`]),
    ...plan.delete.map((f) => `--delete=${literal(f.path)}`),
    '--commit-message', text.summary, '--commit-description', text.description, '--json',
  ];
}

/**
 * `hf download` of exactly the plan's files into the pair's folder, at the pair's revision.
 * --force-download: hf skips a file whose local metadata names the remote's etag and whose mtime is
 * within a second of that metadata, so a copy damaged right after a pull would be kept. Every file
 * here is one labsync found different: it must be fetched.
 */
/** `at`: the commit the plan was listed at (the branch may move meanwhile); else the pair's revision. */
export function downloadArgv(pair: ResolvedPair, paths: readonly string[], at?: string): string[] {
  const r = hfRemote(pair);
  return ['download', r.repo, ...typeArgs(r), '--revision', at ?? r.revision, '--local-dir', pair.local, '--force-download', ...paths.map((p) => `--include=${literal(p)}`)];
}

/** Creating the repo is explicit (`create: true`), private, and never fails on one that exists. */
export function createArgv(r: HfRemote): string[] {
  return ['repos', 'create', r.repo, ...typeArgs(r), '--private', '--exist-ok'];
}
