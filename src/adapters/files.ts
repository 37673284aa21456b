// The adapter's one shape for labsync's own plan (issue 12): list → plan → transfer, and the one
// helper that picks a store's listing. Its types are re-exported by types.ts.
import type { Direction, ResolvedPair } from '../types.js';
import type { PairPlan } from '../plan/types.js';
import type { Entry } from '../verify/compare.js';
import type { StoreChecksum } from '../verify/s3-judge.js';
import type { S3Target } from '../exec/s3-direct.js';
import type { Adapter, Command, PlanContext, Probe } from './types.js';

/** A folder's regular files as one listing: paths in byte order with [size, mtimeMs, ctimeMs, ino] keys. */
export interface RemoteTree {
  /** The remote's clock when the listing started, in ms: the racy window of its hash cache is judged by it. */
  readonly nowMs: number;
  readonly paths: readonly string[];
  readonly keys: Float64Array;
  /** Files hashed in the same call, when asked (the files a transfer just wrote). */
  readonly hashes?: RemoteHashes;
  /** sha256 of the excludes and the raw listing: the same digest means the same files with the same keys. */
  readonly rawDigest?: string;
  /** The raw listing itself (find's records), which a tree's next listing is compared with record by record. */
  readonly raw?: Buffer;
  /** The folder's file system, where the host said: `name@magic` (findmnt's name, statfs's magic in hex: `ext4@ef53`, `fuse.sshfs@65735546`), either part possibly empty. */
  readonly fsType?: string;
}

/** A listing; or the folder is not there; or the remote cannot list this way (the tool's dry run decides then). */
export type RemoteListing = RemoteTree | { readonly missing: true } | { readonly unsupported: string };

/** Files hashed where they are: the key each had when read, and its sha256. */
export interface RemoteHashes {
  readonly nowMs: number;
  readonly keys: ReadonlyMap<string, readonly [number, number, number, number]>;
  readonly sha256: ReadonlyMap<string, string>;
}


/** What the local side computes to compare with a listing's entries (from its hash cache); none: size and mtime. */
export interface LocalKeys {
  readonly md5?: boolean;
  /** The multipart ETag at this part size (S3). */
  readonly etagPartSize?: number;
  /** aws-cli's multipart_threshold, where it is not the part size: a smaller file's ETag is its MD5. */
  readonly etagThreshold?: number;
  /** Each file's sha256 too (the receipt's checksum list); entries with a git blob id (hf) get the local file's blob id computed beside it. */
  readonly sha256?: boolean;
  /** Each file's mtime too: where the remote lists only upload times, a file changed since is told by it (plan/compute.ts). */
  readonly mtime?: boolean;
}

/**
 * A store listed with the keys it keeps itself (an ETag, an MD5, an LFS sha256): compared with the
 * local side's cached digests, nothing read at the remote.
 */
export interface Lister {
  readonly remote: Probe<RemoteEntries>;
  readonly local: LocalKeys;
  /** Modification times closer than this count as equal where no checksum decides. */
  readonly modifyWindowMs: number;
  /** An S3 remote labsync may list itself over HTTP (exec/s3-list.ts); `remote` is the fallback. */
  readonly s3?: Extract<ResolvedPair['remote'], { type: 's3' }>;
  /**
   * An S3 remote behind another tool (rclone) that labsync may list itself: where, from the environment
   * and files' text (pure); its entries are the tool's (an MD5 from a plain-MD5 ETag or, as the tool
   * does, from the object's metadata; no mtime: engine/listings.ts).
   */
  readonly s3Direct?: { target(env: Readonly<Record<string, string | undefined>>, read: (path: string) => string): S3Target | { reason: string } };
  /**
   * The stored checksums of `paths` the listing could not prove (S3: one HEAD each, so only for
   * objects whose ETag is not their MD5). A path with none is left out of the map.
   */
  checksums?(paths: readonly string[]): Probe<ReadonlyMap<string, StoreChecksum>>;
}

/**
 * A host's folder listed with stat keys [size, mtimeMs, ctimeMs, ino]: labsync hashes its files there
 * (`FileSync.hash`) and remembers each sha256 under that key, so an unchanged file is never read again.
 */
export interface TreeList {
  readonly tree: Probe<RemoteListing>;
  /** Asked with `hold`: the same listing in a session the engine may keep open for the transfer. */
  readonly held?: HeldList;
}

/**
 * A host's listing in a session kept open (engine/ssh-held.ts): one login for a run's listing, its
 * transfer and the listing after it. The markers carry the run's token, so a file name cannot forge them.
 */
export interface HeldList {
  /** The same for every run of the pair (so bin/labsync.js may have started it early, exec/early.ts); what a run asks is its input. */
  readonly command: Command;
  /** What ends the listing on the session's stdout; the host then waits for one line. */
  readonly mark: Buffer;
  /** What ends it instead from a host that can answer `touch`'s questions (none: never asked). */
  readonly markTouch?: Buffer;
  /** The listing, from what came before the mark. */
  parse(listed: Buffer): RemoteListing;
  /** The line that asks the session to list again (after a transfer that went over a login of its own). */
  readonly again: string;
  /** The listing after the transfer, from the session's stderr once it ended; undefined: none (the transfer failed, or the host answered `touch`). */
  after(stderr: Buffer): RemoteListing | undefined;
  /** What to write before the transfer's line so that the host answers `q` after it instead of listing whole (engine/host-after.ts). */
  touch?(q: AfterQuestions): Buffer;
  /** The host's answers to `q` from its stderr; 'whole': it listed whole instead (after() reads it); undefined: none, or not of their shape. */
  answers?(stderr: Buffer, q: AfterQuestions): AfterAnswers | 'whole' | undefined;
}

/** What the engine asks of a host after a transfer, to patch its listing before (each list in the order answered). */
export interface AfterQuestions {
  /** Paths (files or folders) whose record find prints now, or whose kind it says. */
  readonly paths: readonly string[];
  /** Folders whose entries are counted ('' is the tree's root). */
  readonly counts: readonly string[];
  /** Folders whose subtrees find lists, as the whole tree's find lists them. */
  readonly lists: readonly string[];
}

/** What a path is now: find's record (a regular file), a folder, something else; absent: gone. */
export type AfterKind = Buffer | 'folder' | 'other';

export interface AfterAnswers {
  readonly kinds: ReadonlyMap<string, AfterKind>;
  readonly counts: ReadonlyMap<string, number>;
  readonly lists: ReadonlyMap<string, Buffer>;
}

/** One listing of the remote, in the form its keys take. */
export type RemoteList = TreeList | Lister;

/**
 * A remote listing; `revision`: the commit it was taken at, where the remote has commits (hf): the
 * receipt records it. `version`: what else names the listed content (mlflow's version number): a saved
 * plan goes stale when it moves, though a new version's files may list with the same names and sizes.
 * `unset`: what the remote lacks though the files list as they should (hf: the branch is not made yet,
 * listed as the branch it is made from; mlflow: the pair's alias is not set): `status` and `check` say
 * drift, and a push with nothing to send still runs where `pushSets` (it registers the folder again).
 */
export type RemoteEntries = readonly Entry[] & { readonly revision?: string; readonly version?: string; readonly unset?: string; readonly pushSets?: boolean };

/** How a plan is carried out beyond its files, where the engine knows more than the plan. */
export interface TransferHow {
  /** What to name to delete (plan/changes.ts deletionTargets: the topmost folders the source lacks); default: the plan's deletions. */
  readonly deleteTargets?: readonly string[];
  /** The plan is every file of the source and the destination holds none: the tool may send the tree as it walks it. */
  readonly tree?: boolean;
  /** An interrupted file leaves nothing at the destination, not even a partial kept aside to resume (drain). */
  readonly whole?: boolean;
  /**
   * The remote revision the plan was made from (hf: the listed commit; mlflow: the listed version): a
   * pull reads exactly it, not whatever the branch or alias names by the time the download starts.
   */
  readonly at?: string | number;
  /** A re-send after the verify found drift: it never deletes a folder to make way (one made since the plan; the guard never saw it). */
  readonly repair?: boolean;
}

/** The commands that carry out a plan, and what the engine prepares or finishes around them. */
export interface PlannedTransfer {
  /** Sends and replacements (and a tool's backups first), in order. */
  readonly send: readonly Command[];
  /** Run only after every `send` command succeeded; empty where the tool deletes in the same call (rclone sync, an hf commit). */
  readonly delete: readonly Command[];
  /** Links the engine makes before the commands run (dir/path → local/path), and removes after. */
  readonly stage?: { readonly dir: string; readonly paths: readonly string[] };
  /** Local files the engine deletes once every command succeeded (a mirror pull by a tool that cannot). */
  readonly deleteLocal?: readonly string[];
}

/**
 * list → plan → transfer (issue 12): what a tool gives for labsync to own the diff. All pure: argv,
 * parse. The engine lists each side once, plans, guards, runs the commands and verifies.
 */
export interface FileSync {
  /**
   * The remote's files; undefined: the tool compares by itself (bisync), or the remote is a folder on
   * this machine that labsync walks itself (rsync). `excludes`: a tree's prunes; `hash`: files to hash
   * in the same call (those a transfer just wrote); `hold`: a token of this run, asking for the listing
   * in a session kept open too (`TreeList.held`, where the remote can).
   */
  list(pair: ResolvedPair, direction: Direction, opts?: { readonly excludes?: readonly string[]; readonly hash?: readonly string[]; readonly hold?: string }): RemoteList | undefined;
  /** sha256 of `paths` computed on the remote's side (a host: stat, then sha256sum); only where it can. */
  hash?(pair: ResolvedPair, paths: readonly string[]): Probe<RemoteHashes | { readonly unsupported: string }>;
  /** The commands for exactly `plan`: sends, then deletions. */
  transfer(pair: ResolvedPair, direction: 'push' | 'pull', plan: PairPlan, ctx: PlanContext, how?: TransferHow): PlannedTransfer;
}

/** The pair's remote as a store's entries (aws, rclone, hf, mlflow), where its tool lists it so: labsync plans from them (engine/plan-pair.ts). */
export function storeLister(adapter: Adapter, pair: ResolvedPair, direction: Direction): Lister | undefined {
  const l = adapter.files?.list(pair, direction);
  return l && 'remote' in l ? l : undefined;
}
