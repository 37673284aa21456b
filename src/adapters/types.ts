import type { Direction, RemoteType, ResolvedPair, ToolName, VerifyMode } from '../types.js';
import type { FileSync } from './files.js';

export type { AfterAnswers, AfterKind, AfterQuestions, FileSync, HeldList, LocalKeys, Lister, PlannedTransfer, RemoteEntries, RemoteHashes, RemoteList, RemoteListing, RemoteTree, TransferHow, TreeList } from './files.js';

/** A program labsync may start: the five tools, ssh (which rsync, git and dvc ride on), or a hook's own program. */
export type Program = ToolName | 'ssh' | (string & {});

/** One external invocation: argv, never a shell string. */
export interface Command {
  readonly tool: Program;
  /** argv without the program name; the program is `tool` found on PATH. */
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Variables to remove from the child's environment (e.g. AWS_CA_BUNDLE for rclone 1.60). */
  readonly unsetEnv?: readonly string[];
  /** false: safe under --dry-run (versions, listings, the tool's own dry run). */
  readonly mutates: boolean;
  /**
   * stdout is data, not a message (a host's NUL-separated listing): kept as bytes in ToolOutput.bytes,
   * neither decoded nor redacted (a file name that is not UTF-8 stays itself; 10k names cost ~50 ms
   * of decoding and matching secrets' patterns otherwise). stderr is decoded and redacted as always.
   */
  readonly binaryStdout?: boolean;
  /** In the user's words: "push data/raw to lab-s3:dvcstore". */
  readonly label: string;
  /** The pair it works for, so a classification can name the exact command to run next. */
  readonly pair?: string;
  /**
   * The argv for running it again (a retry, a repair), where the same argv would undo what the first
   * run did: rsync or rclone sending a file again would move the copy just written over the backup of
   * the old one. What a rerun moves aside is named with `.<rerun>` (`model.bin.attempt2`).
   */
  readonly retryArgs?: (rerun: string) => readonly string[];
  /** Said to the user (as a warning) when this command succeeds: "commit data/raw.dvc …". */
  readonly notice?: string;
  /** Deletions follow this copy: a file it skipped (gone, unreadable) fails it, so they do not run. */
  readonly skipFails?: boolean;
  /**
   * A non-zero exit whose output matches this is an answer, not a failure: a branch not on the
   * remote yet, a destination folder not made yet, a file dvc did not write. The engine checks it
   * before the adapter classifies.
   */
  readonly answers?: RegExp;
  /** The tool's version as read at the start of this run, where its output or exit codes depend on it (rclone). */
  readonly toolVersion?: string;
  /** Standard input for the child: a file list (NUL-separated for rsync --files-from=-, lines for rclone --files-from-raw -); none: no stdin. */
  readonly input?: string;
  /** How the input is shown in the command's text (a script, say), instead of its count of paths. */
  readonly inputNote?: string;
}

/** What a finished child process left behind. run() never throws for a non-zero exit. */
export interface ToolOutput {
  readonly exitCode: number;
  readonly stdout: string;
  /** stdout as bytes, for a command with `binaryStdout` (its `stdout` is then empty). */
  readonly bytes?: Buffer;
  readonly stderr: string;
  readonly durationMs: number;
  readonly signal?: string;
  readonly timedOut: boolean;
  /** The stall watchdog stopped it: no progress for the pair's stall_timeout. */
  readonly stalled?: { readonly ms: number; readonly lastLine?: string };
  /** labsync stopped it (SIGINT/SIGTERM to labsync). */
  readonly aborted: boolean;
  /** The child never started: ENOENT, EACCES. */
  readonly spawnError?: string;
}

/** Adapters decide, the engine obeys. */
export type Outcome =
  | { readonly kind: 'ok'; readonly warning?: string }
  | { readonly kind: 'retry'; readonly reason: string }
  /**
   * safety: not a failure but a stop that needs a human (missing source, a bisync that needs --resync): exit 3.
   * locked: the tool's own lock is held by another process (dvc): reported as locked, exit 75.
   */
  | { readonly kind: 'fatal'; readonly reason: string; readonly hint?: string; readonly safety?: boolean; readonly locked?: boolean };

/** What a transfer would do, from the tool's own dry run. Paths are relative to the pair's roots. */
export interface Changes {
  readonly transfer: readonly string[];
  readonly delete: readonly string[];
  /** Files in the source (undefined where the tool cannot tell). */
  readonly sourceFiles?: number;
  /** Files in the destination that a mirror could delete (undefined where the tool cannot tell). */
  readonly destFiles?: number;
  /** Bytes of the `transfer` files at the source, where the preview's listing tells (aws pull). */
  readonly transferBytes?: number;
  /** Transfers that overwrite a file already at the destination (where the tool can tell). */
  readonly replace?: readonly string[];
  /** Why the tool's own state forbids the run (git: uncommitted changes, diverged history): a safety stop. */
  readonly blockers?: readonly string[];
  /** Local changes not yet recorded (git: uncommitted files), shown by status. */
  readonly uncommitted?: readonly string[];
  /** bisync: the names the copies of files changed on both sides would get (relative to the pair's roots). */
  readonly conflictCopies?: readonly string[];
}

/** What a transfer's own output says it moved; `bytes` undefined where the tool does not say it exactly. */
export interface TransferStats { readonly files: number; readonly bytes?: number }

export interface Progress {
  readonly bytes?: number;
  readonly percent?: number;
  readonly rate?: string;
  readonly eta?: string;
  readonly files?: number;
  /** Files compared and found equal so far (rclone's checks): a long comparison is progress too. */
  readonly checks?: number;
}

/** The verifier's comparison of the two sides. Paths relative to the pair's roots. */
export interface VerifyReport {
  readonly checked: number;
  readonly missing: readonly string[];
  readonly extra: readonly string[];
  readonly changed: readonly string[];
  /**
   * Files whose sizes match but whose content the remote could not prove either way (an S3 ETag that
   * is not an MD5, no additional checksum): compared by size only, never counted as drift.
   */
  readonly unproven?: readonly string[];
  /** Why the remote could not prove them, in the user's words. */
  readonly unprovenReason?: string;
  /** Bytes of file content read to answer, on each side, where the comparison counts them. */
  readonly bytesHashed?: { readonly local: number; readonly remote: number };
}

export interface PlanContext {
  /** Run timestamp, for dated backup folders: 2026-11-25T10-00-00.123Z. */
  readonly stamp: string;
  readonly tty: boolean;
  readonly verbose: boolean;
  /** `sync --resync`: the explicit first run of a bisync pair. Never set by labsync itself. */
  readonly resync: boolean;
  /** `check --full`: compare by downloading where the remote offers no checksum. */
  readonly full: boolean;
  /** `push --commit MESSAGE`: record local changes first (git, dvc). */
  readonly commitMessage?: string;
  /** Versions of the tools that need one to build their argv (rclone), read once per run; absent: not read. */
  readonly toolVersions?: Readonly<Partial<Record<ToolName, string>>>;
  /** `pull|check --snapshot STAMP`: a snapshot pair's snapshot to read instead of `latest`. */
  readonly snapshot?: string;
}

/** A registry's own names for what a run moved: `{ model, version, alias }`. */
export type RunRecord = Readonly<Record<string, string | number | null>>;

/** A non-mutating probe: the commands to run, and how to read their output. */
export interface Probe<T> {
  readonly commands: readonly Command[];
  parse(outputs: readonly ToolOutput[]): T;
}

/** A snapshot pair's remote folder (rsync --link-dest snapshots). */
export interface SnapshotState {
  /** The base folder is not there yet: no snapshot was ever made. */
  readonly missing: boolean;
  /** What `latest` names (when it names a snapshot that is there). */
  readonly latest?: string;
  /** Every snapshot folder, oldest first. */
  readonly names: readonly string[];
  /** A run that did not finish left its folder (the next run writes into it again). */
  readonly incomplete: boolean;
  /** `latest` is there but no symlink (a folder restored with cp -r, say): labsync never writes over it. */
  readonly latestNotLink?: boolean;
}

/** The steps around a snapshot run; the engine decides when each runs (snapshots.ts). */
export interface SnapshotSteps {
  /** The folder a run writes into, beside the snapshots, renamed when verified. */
  readonly incomplete: string;
  state(pair: ResolvedPair): Probe<SnapshotState>;
  /** `partials`: the folder was written into before this transfer: rsync's leftover parts are removed first. */
  publish(pair: ResolvedPair, name: string, partials?: boolean): Command;
  prune(pair: ResolvedPair, names: readonly string[]): Command;
  /** Makes an unfinished run's folder safe to write into again: no file in it shares an inode with a finished snapshot. */
  unlink(pair: ResolvedPair): Command;
}

export interface Capabilities {
  /** The remote holds the same files as the local folder (rsync, rclone, aws), not a store of its own (git, dvc). */
  readonly copiesFiles: boolean;
  readonly directions: readonly Direction[];
  readonly remoteTypes: readonly RemoteType[];
  readonly delete: boolean;
  readonly backup: boolean;
  readonly bwlimit: boolean;
  readonly transfers: boolean;
  readonly verify: readonly VerifyMode[];
}

export interface Adapter {
  readonly tool: ToolName;
  readonly capabilities: Capabilities;
  /** Python tools say pipx: a venv of their own, never the machine's site-packages (pip there breaks others' pins). */
  readonly install: { readonly apt?: string; readonly brew?: string; readonly pipx?: string; readonly url: string };
  /** The tool cannot keep replaced local files itself: labsync copies them aside before a pull. */
  readonly localBackup?: boolean;
  version(): Probe<string | undefined>;
  /**
   * What this pair asks that the tool's `version` cannot do ("conflict: newer needs rclone 1.66.0 or
   * newer …"), and how to get one that can. With it, the engine reads the version once per run and
   * passes it to the argv builders (PlanContext.toolVersions); a pair with a problem is refused first.
   */
  readonly versioned?: { problems(pair: ResolvedPair, version: string): readonly string[]; readonly hint: string };
  /**
   * A lock file the tool itself leaves when killed (bisync ≥ 1.66's NAME.lck), and how to read the PID
   * inside. The engine, holding labsync's own lock for the pair, removes one whose process is gone.
   */
  toolLock?(pair: ResolvedPair, direction: Direction, ctx: PlanContext): { readonly dir: string; pidOf(text: string): number | undefined } | undefined;
  /** `changes` is the preview's answer, for tools that must act on it (aws backs up what a mirror replaces). */
  transfer(pair: ResolvedPair, direction: Direction, ctx: PlanContext, changes?: Changes): readonly Command[];
  preview(pair: ResolvedPair, direction: Direction, ctx: PlanContext): Probe<Changes>;
  /** Compare both sides with the tool's own comparison (rsync -c dry run, rclone check). */
  verify?(pair: ResolvedPair, mode: Exclude<VerifyMode, 'none'>, ctx: PlanContext): Probe<VerifyReport>;
  /** list → plan → transfer: labsync owns the diff; without it, the tool's `preview` and `verify` decide. */
  readonly files?: FileSync;
  /**
   * Re-send `paths` that verify found changed though the tool's quick check (size and time) saw them
   * equal: a same-size, same-mtime corruption at the destination. Compares content this time.
   */
  repair?(pair: ResolvedPair, direction: 'push' | 'pull', paths: readonly string[], ctx: PlanContext): readonly Command[];
  /** The compression both ends of an ssh pair with `compress: true` offer (rsync: zstd), asked once per run. */
  compressChoice?(pair: ResolvedPair): Probe<string | undefined>;
  /** `snapshots:` pairs: dated complete trees with a `latest` pointer. */
  readonly snapshots?: SnapshotSteps;
  /**
   * The files a `files.transfer` command wrote and checked against the sender's whole-file checksum
   * (rsync does so for every file it transfers): the verify need not read them back at the destination.
   */
  parseWritten?(output: ToolOutput): readonly string[];
  classify(output: ToolOutput, command: Command): Outcome;
  /** What a receipt records beyond files and bytes (mlflow: model, version, alias), from the transfer's or else the listing's outputs. */
  record?(outputs: readonly ToolOutput[]): RunRecord | undefined;
  /** The remote revision a push made (hf: the commit `hf upload --json` names): the receipt's, not the newest one a later listing sees. */
  madeRevision?(outputs: readonly ToolOutput[]): string | undefined;
  parseStats?(output: ToolOutput): TransferStats;
  parseProgress?(line: string): Progress | undefined;
}
