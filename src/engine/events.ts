import type { Changes, Progress, RunRecord, VerifyReport } from '../adapters/types.js';
import type { Action, Category, PairStatus, SourceRef, ToolName } from '../types.js';

export interface VerifyResult extends VerifyReport {
  readonly status: 'in_sync' | 'drift' | 'skipped';
  readonly mode?: 'checksum' | 'size';
  /** Bytes of file content read to answer, on each side (0 on both for an unchanged pair with warm caches). */
  readonly bytesHashed?: { readonly local: number; readonly remote: number };
  /**
   * What proved the sides equal: `cached` (stat keys unchanged since hashed, the rest hashed now),
   * `full` (every file read on both sides), `tool` (the tool's own comparison, e.g. rsync -c), or
   * `rsync-transfer-checksum` (as `cached`, but files the transfer just wrote were proved by rsync's
   * check of each against the sender's whole-file checksum, not read back at the destination).
   */
  readonly proof?: 'cached' | 'full' | 'tool' | 'rsync-transfer-checksum';
  /** Destination files proved by the transfer's checksum (proof `rsync-transfer-checksum`). */
  readonly provenByTransfer?: number;
  /** Per-file work of the run (verify/work-count.ts): entries built to plan, hash cache rows parsed or made. */
  readonly work?: { readonly entries: number; readonly cacheRows: number };
  /** The source's bytes read while the transfer ran rather than after it (early-hash.ts); within bytesHashed, unless a repair's verify answered. */
  readonly readWhileSending?: number;
}

/** One pair's outcome: the `pairs[]` entries of the --json document (SPEC §5). */
export interface PairResult {
  readonly name: string;
  readonly category: Category;
  readonly tool: ToolName;
  readonly action: Action;
  readonly status: PairStatus;
  readonly attempts: number;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly files: number;
  readonly bytes: number;
  readonly error: string | null;
  readonly hint?: string;
  readonly commands: readonly string[];
  readonly verify: VerifyResult | null;
  readonly changes?: Changes;
  readonly warnings: readonly string[];
  /** A registry's names for what the run pushed or pulled (mlflow: model, version, alias). */
  readonly record?: RunRecord;
  /** The files were moved by labsync's own S3 client, not by the pair's tool (a small aws push: engine/s3-push.ts). */
  readonly movedBy?: 'labsync-s3';
  /** A `snapshots:` pair: the snapshot this run wrote (push) or read (pull, check, status). */
  readonly snapshot?: string;
  /** `drain` stopped by its budget (status `partial`): the planned files not sent, newest first. */
  readonly left?: readonly string[];
  /** A shard's run (`--shard K/N`): which slice, and the fingerprint its run shares with the other shards (null: it stopped before listing). */
  readonly shard?: { readonly index: number; readonly count: number; readonly run: string | null };
}

export interface RunResult {
  readonly command: string;
  readonly ok: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly dryRun: boolean;
  readonly pairs: readonly PairResult[];
}

export interface PairRef { readonly name: string; readonly category: Category; readonly tool: ToolName; readonly action: Action; readonly source?: SourceRef }

export type RunEvent =
  | { readonly kind: 'run_start'; readonly command: string; readonly pairs: readonly PairRef[]; readonly dryRun: boolean }
  | { readonly kind: 'pair_start'; readonly pair: PairRef }
  | { readonly kind: 'pair_step'; readonly pair: string; readonly step: string }
  | { readonly kind: 'pair_progress'; readonly pair: string; readonly progress: Progress }
  | { readonly kind: 'pair_retry'; readonly pair: string; readonly attempt: number; readonly delayMs: number; readonly reason: string }
  | { readonly kind: 'warning'; readonly pair?: string; readonly message: string }
  | { readonly kind: 'pair_end'; readonly result: PairResult }
  | { readonly kind: 'run_end'; readonly result: RunResult };

export type Emit = (event: RunEvent) => void;
