// `.labsync/receipts/<time>-<pair>.json`: the record of what was synced when (SPEC §5).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { receiptsDir } from './paths.js';

export interface Receipt {
  readonly pair: string;
  readonly category: string;
  readonly tool: string;
  readonly action: string;
  readonly status: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly local: string;
  readonly remote: string;
  readonly files: number;
  readonly bytes: number;
  /** HEAD of the git repository holding the local folder, if it is in one. */
  readonly gitCommit: string | null;
  /** sha256 of the local tree's `labsync sums` list after the run, and how many files it lists. */
  readonly sumsDigest: string | null;
  readonly sumsFiles: number | null;
  readonly toolVersions: Readonly<Record<string, string>>;
  /** `labsync-s3`: labsync's own S3 client moved the files, not the tool (a small aws push); absent: the tool did. */
  readonly movedBy?: 'labsync-s3';
  /** A registry's names for what was moved (mlflow: model, version, alias); absent for other tools. */
  readonly registry?: Readonly<Record<string, string | number | null>>;
  /**
   * What proved the run: `cached` (unchanged stat keys, the rest hashed on each side), `full` (every
   * byte read on both sides), `tool` (the tool's own comparison, e.g. rsync -c),
   * `rsync-transfer-checksum` (as cached, but what the transfer wrote was proved by rsync's own check
   * of each written file against the sender's whole-file checksum, not read back); null: not verified.
   */
  readonly proof: 'cached' | 'full' | 'tool' | 'rsync-transfer-checksum' | null;
  readonly bytesHashed: { readonly local: number; readonly remote: number } | null;
  /** Files only their sizes could vouch for (a store that keeps no checksum of them): the proof is not theirs. */
  readonly unproven?: number;
  /** `labsync apply`: sha256 of the plan file this run carried out. */
  readonly appliedPlan?: string;
  /** `drain` ended by its budget (status `partial`): the planned files not sent, newest first. */
  readonly left?: readonly string[];
  /** The remote's commit id the run ended at, where the remote has commits: an hf push's new commit, a pull's fetched one. */
  readonly remoteCommit?: string;  /**
   * A shard's run (`--shard K/N`): its slice, and `run`, the fingerprint every shard of one run shares
   * (the source listing, direction and mirror; null when the shard stopped before listing).
   */
  readonly shard?: { readonly index: number; readonly count: number; readonly run: string | null };
  /** Where the pair's ends were (store.ts endsKey): status counts only receipts of the ends the pair has now. */
  readonly ends?: string;
}

export function digestOfList(lines: readonly string[]): string {
  return createHash('sha256').update(lines.length ? `${lines.join('\n')}\n` : '').digest('hex');
}

export async function writeReceipt(root: string, stamp: string, receipt: Receipt): Promise<string> {
  const shard = receipt.shard ? `.shard-${receipt.shard.index}-of-${receipt.shard.count}` : '';
  const file = join(receiptsDir(root), `${stamp}-${receipt.pair}${shard}.json`);
  await writeFileAtomic(file, `${JSON.stringify(receipt, null, 2)}\n`);
  return file;
}
