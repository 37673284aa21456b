// Vocabulary shared by the manifest, the engine, adapters and reporters.

export const CATEGORIES = ['code', 'data', 'models'] as const;
export type Category = (typeof CATEGORIES)[number];

export const TOOLS = ['git', 'dvc', 'rclone', 'rsync', 'aws', 'mlflow', 'hf'] as const;
export type ToolName = (typeof TOOLS)[number];

export const MODES = ['push', 'pull', 'bisync'] as const;
export type Mode = (typeof MODES)[number];

/** What the user asked of a pair: a direction, the pair's own mode, or a read-only look (status, check). */
export type Action = 'push' | 'pull' | 'sync' | 'status' | 'check';
/** What a tool is asked to do once `sync` has been resolved to the pair's mode. */
export type Direction = Mode;

export const PAIR_STATUSES = [
  'ok', 'failed', 'refused', 'skipped', 'in_sync', 'drift', 'locked', 'interrupted', 'planned',
  // `drain`: the budget ended before every planned file was sent (PairResult.left names the rest).
  'partial',
] as const;
export type PairStatus = (typeof PAIR_STATUSES)[number];

export type VerifyMode = 'checksum' | 'size' | 'none';

/** bisync: which copy of a file changed on both sides wins (the other is kept beside it); keep-both renames both. */
export const CONFLICT_POLICIES = ['keep-both', 'newer', 'older', 'larger', 'smaller', 'path1', 'path2'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];
/** bisync: what tells a file changed (rclone's --compare). */
export const COMPARE_KEYS = ['size', 'modtime', 'checksum'] as const;
export type CompareKey = (typeof COMPARE_KEYS)[number];

/** Where a pair's far side lives, after `remotes:` and inline URLs are resolved. */
export type Endpoint =
  | { readonly type: 'local'; readonly path: string }
  | {
      readonly type: 'ssh'; readonly host: string; readonly user?: string; readonly port?: number;
      readonly identity?: string; readonly path: string; readonly knownHosts?: string;
      readonly sshConfig?: string; readonly sshOptions: readonly string[];
      /** `control_persist`: seconds a connection stays open after its last session (0: not kept); absent: the default, 60. */
      readonly controlPersist?: number;
      /** Set at run time (engine/ssh-keep.ts), never by the manifest: the checked folder its kept connection's socket lives in. */
      readonly keptIn?: string;
      /** With keptIn: a digest of the files ssh reads for this connection (engine/ssh-keep.ts), in the socket's name. */
      readonly keptKey?: string;
    }
  | {
      readonly type: 's3'; readonly bucket: string; readonly prefix: string; readonly region?: string;
      readonly profile?: string; readonly endpoint?: string;
      /** Allow the EC2/ECS instance metadata service as a credential source (off: no probe of 169.254.169.254). */
      readonly instanceCredentials?: boolean;
      /** The part size the uploader used, for recomputing multipart ETags (aws-cli: 8 MiB). */
      readonly partSize?: number;
      /** aws-cli's multipart_threshold from its config file, where it is not the part size. */
      readonly partThreshold?: number;
      /** Whether the store's ETags are MD5s (`md5`), are not (`opaque`), or are judged from each listing (absent). */
      readonly etag?: 'md5' | 'opaque';
    }
  | { readonly type: 'rclone'; readonly remote: string; readonly path: string; readonly config?: Readonly<Record<string, string>> }
  | { readonly type: 'git'; readonly url: string }
  /** An MLflow model registry: versions of `model`, their files logged as runs of `experiment`. */
  | { readonly type: 'mlflow'; readonly trackingUri: string; readonly model: string; readonly experiment: string }
  | {
      /** A Hugging Face Hub repo (issue 14): `path` is the subfolder of the repo ('' for its root). */
      readonly type: 'hf'; readonly repo: string; readonly repoType: 'model' | 'dataset' | 'space';
      readonly revision: string; readonly path: string;
      /** `create: true`: labsync may create the repo (private); never a side effect otherwise. */
      readonly create: boolean;
    };

export type RemoteType = Endpoint['type'];

/** A YAML position, for messages that point at the manifest. */
/** Where a pair is written: `file` as messages name it, `path` absolute (for CI annotations). */
export interface SourceRef { readonly file: string; readonly path?: string; readonly line: number; readonly col: number }

export type MaxDelete = { readonly count: number } | { readonly percent: number };

export interface Hooks { readonly before?: readonly string[]; readonly after?: readonly string[]; readonly onFailure?: readonly string[] }
export interface Notify { readonly start?: string; readonly success?: string; readonly failure?: string }

/** A pair with defaults applied, paths absolute and its remote resolved: all an adapter needs. */
export interface ResolvedPair {
  readonly name: string;
  readonly category: Category;
  readonly tool: ToolName;
  /** The manifest's folder: tools run here, `.labsync/` lives here. */
  readonly root: string;
  readonly local: string;
  readonly remote: Endpoint;
  /** Other pairs whose folders lie inside this mirror's and are not excluded (`category.name (folder/)`): its pull is refused. */
  readonly nestedPairs?: readonly string[];
  /** Set on a snapshot pair pointed at one snapshot's folder (snapshots.ts `under`): the remote the manifest names. */
  readonly snapshotOf?: Endpoint;
  /** The remote as the user wrote it, for labels: `lab-s3:data/processed`. */
  readonly remoteLabel: string;
  readonly mode: Mode;
  readonly delete: boolean;
  /** `delete` was not written for this mlflow pair: it is a push's default (a version is the whole folder), never a pull's. */
  readonly deleteByDefault?: boolean;
  readonly maxDelete: MaxDelete;
  readonly backup: boolean;
  readonly bwlimit?: string;
  readonly transfers?: number;
  /** rsync over ssh: compress on the wire (files in formats that do not compress are sent apart, uncompressed). */
  readonly compress?: boolean;
  /** Set by the engine once per run when both ends offer it (`--compress-choice=zstd`); never by the manifest. */
  readonly compressChoice?: string;
  /** Push to a local or ssh remote: each run a dated complete tree under the remote path, `latest` naming the newest. */
  readonly snapshots?: { readonly keep: number };
  /** Set by the engine for a snapshot run: the previous snapshot, relative to the one being written. */
  readonly linkDest?: string;
  /** `shards: N`: the pair is meant to run as N workers (`--shard K/N`, or K from a Slurm array / Indexed Job). */
  readonly shards?: number;
  readonly exclude: readonly string[];
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly timeoutMs: number;
  /** No progress for this long stops an attempt as a transient failure (the stall watchdog). */
  readonly stallTimeoutMs: number;
  readonly verify: VerifyMode;
  /** `full_check`: read every byte on both sides when the last full check is older than this. */
  readonly fullCheckMs?: number;
  readonly schedule?: string;
  readonly tags: readonly string[];
  /** `drain_marker`: a file `drain` writes at the destination last, only when every planned file was sent and verified. */
  readonly drainMarker?: string;
  readonly hooks: Hooks;
  readonly notify: Notify;
  readonly branch?: string;
  readonly lfs: boolean;
  /** mlflow: the alias a push points at its version, or a pull reads. */
  readonly alias?: string;
  /** mlflow: the model version a pull reads. */
  readonly version?: number;
  /** bisync (rclone ≥ 1.66 for anything but keep-both): the conflict policy. Absent: keep-both. */
  readonly conflict?: ConflictPolicy;
  /** bisync (rclone ≥ 1.66): what it compares; absent: the tool's default (size and modtime). */
  readonly compare?: readonly CompareKey[];
  /** A lock at the remote as well as the local one: `asked` (remote_lock: true), `default` (a mirror or bisync); absent: off. */
  readonly remoteLock?: 'asked' | 'default';
  readonly source: SourceRef;
}

export interface Manifest {
  readonly file: string;
  /** The manifest's folder: relative `local:` paths and `.labsync/` live here. */
  readonly root: string;
  readonly concurrency: number;
  readonly pairs: readonly ResolvedPair[];
}
