// `.labsync/state.json`: each pair's last run. Read-modify-write under a short lock, written atomically.
import { readFileSync } from 'node:fs';
import type { Category, PairStatus, ToolName } from '../types.js';
import { writeFileAtomic } from './atomic.js';
import { sameEnds } from './ends.js';
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
  // Held for milliseconds: a dead holder's (another host's, on a shared folder) is known within a minute.
  const got = await acquireLock(locksDir(root), '.state', { waitMs: 15_000, command: 'state update', beat: { beatMs: 5_000, silentMs: 60_000 } });
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
