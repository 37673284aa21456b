// `.labsync/state.json`: each pair's last run. Read-modify-write under a short lock, written atomically.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redactor } from '../exec/redact.js';
import type { Category, PairStatus, ResolvedPair, ToolName } from '../types.js';
import { writeFileAtomic } from './atomic.js';
import { acquireLock } from './lock.js';
import { locksDir, stateFile } from './paths.js';

export interface PairRecord {
  readonly name: string;
  readonly category: Category;
  readonly tool: ToolName;
  readonly action: string;
  readonly status: PairStatus;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly attempts: number;
  readonly files: number;
  readonly bytes: number;
  readonly error?: string;
  /** When this pair last finished ok (carried over across failed runs). */
  readonly lastSuccessAt?: string;
  /** The pair's two ends as they were for this run (endsKey): a record of other ends says nothing of the pair as it is now. */
  readonly ends?: string;
}

/**
 * A digest of where the pair's two ends are: the local folder and the resolved remote (a `remotes:` entry's
 * host, bucket or path edited counts, not only the pair's `remote:` words), secrets redacted first (a
 * token that changes each CI job is the same ends; state files hold no secret), the manifest's folder
 * written as <root> (the project moved, or reached through a link, is the same pair).
 */
export function endsKey(pair: Pick<ResolvedPair, 'root' | 'local' | 'remote'>, redact: Redactor): string {
  // Versioned: a key of another form (an earlier build's) is not "other ends".
  return `${ENDS_FORM}${createHash('sha256').update(JSON.stringify(whereOfPair(pair, redact))).digest('hex').slice(0, 32)}`;
}

const ENDS_FORM = 'v2:';

/** The pair's local folder and where its remote is, secrets redacted, the manifest's folder as <root> (saved plans' fingerprints too). */
export function whereOfPair(pair: Pick<ResolvedPair, 'root' | 'local' | 'remote'>, redact: Redactor): unknown[] {
  // Only at a path's boundary: /data/proj-archive is not <root>-archive of /data/proj.
  const here = (s: string): string => (s === pair.root ? '<root>' : s.startsWith(`${pair.root}/`) ? `<root>${s.slice(pair.root.length)}` : s);
  return [here(pair.local), ...whereOf(pair.remote).map((v) => (typeof v === 'string' ? here(redact(v)) : v))];
}

/**
 * What says where a remote is, by kind: not how it is reached (identity, ssh options, the kept
 * connection's socket and digest a run adds, credentials), which may change without moving it.
 */
function whereOf(r: ResolvedPair['remote']): readonly unknown[] {
  switch (r.type) {
    case 'local': return [r.type, r.path];
    case 'ssh': return [r.type, r.user ?? '', r.host, r.port ?? 22, r.path];
    case 's3': return [r.type, r.endpoint ?? '', r.region ?? '', r.bucket, r.prefix];
    // An inline config's credentials change per session (STS keys) without moving the remote.
    case 'rclone': return [r.type, r.remote, r.path, JSON.stringify(Object.entries(r.config ?? {}).filter(([k]) => !/key|secret|token|pass|credential|auth|client_id|account/i.test(k)).sort())];
    case 'git': return [r.type, r.url];
    case 'mlflow': return [r.type, r.trackingUri, r.model, r.experiment];
    case 'hf': return [r.type, r.repo, r.repoType, r.revision, r.path];
  }
}

/** Whether a record was made for these ends (a record from before ends were kept, or kept in another form, counts). */
export const sameEnds = (r: { readonly ends?: unknown } | undefined, ends: string): boolean => typeof r?.ends !== 'string' || !r.ends.startsWith(ENDS_FORM) || r.ends === ends;

export interface StateDoc {
  readonly version: 1;
  readonly pairs: Readonly<Record<string, PairRecord>>;
}

/** A record with every field status and the next run read (an edited or damaged one is left out, not a crash). */
const isRecord = (r: unknown): r is PairRecord => {
  const x = r as Record<string, unknown> | null;
  return typeof x === 'object' && x !== null && ['name', 'category', 'tool', 'action', 'status', 'startedAt', 'finishedAt'].every((k) => typeof x[k] === 'string')
    && ['durationMs', 'attempts', 'files', 'bytes'].every((k) => typeof x[k] === 'number') && (x.lastSuccessAt === undefined || typeof x.lastSuccessAt === 'string');
};

export async function readState(root: string): Promise<StateDoc> {
  try {
    // One small file: read at once, not through the thread pool (atomic.ts says why).
    const doc = JSON.parse(readFileSync(stateFile(root), 'utf8')) as StateDoc;
    if (doc.version !== 1 || !doc.pairs || typeof doc.pairs !== 'object') return { version: 1, pairs: {} };
    return { version: 1, pairs: Object.fromEntries(Object.entries(doc.pairs).filter(([, r]) => isRecord(r))) };
  } catch {
    return { version: 1, pairs: {} };
  }
}

const SUCCESS: readonly PairStatus[] = ['ok', 'in_sync'];

/** Records finished runs. Status and dry-run looks do not overwrite a pair's last real run. */
export async function recordRuns(root: string, records: readonly PairRecord[]): Promise<void> {
  if (!records.length) return;
  const got = await acquireLock(locksDir(root), '.state', { waitMs: 15_000, command: 'state update' });
  if (!('lock' in got)) throw new Error(`state file is locked by PID ${got.heldBy.pid}`);
  try {
    const doc = await readState(root);
    const pairs: Record<string, PairRecord> = { ...doc.pairs };
    for (const r of records) {
      // A success of other ends (the pair's remote or folder changed since) is not this pair's.
      const previous = r.ends && !sameEnds(pairs[r.name], r.ends) ? undefined : pairs[r.name]?.lastSuccessAt;
      const lastSuccessAt = SUCCESS.includes(r.status) ? r.finishedAt : previous;
      pairs[r.name] = { ...r, ...(lastSuccessAt ? { lastSuccessAt } : {}) };
    }
    await writeFileAtomic(stateFile(root), `${JSON.stringify({ version: 1, pairs }, null, 2)}\n`);
  } finally {
    await got.lock.release();
  }
}
