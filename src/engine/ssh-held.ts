// One ssh session for a push or pull that sends a few files (adapters/rsync/held.ts): the host's
// listing session stays open, the transfer's rsync talks through it, and the host lists again in it.
// Where anything does not fit (several rsync calls, deletions, a large plan, a session that died, an
// rsync that failed) the run goes its usual way (ssh-mux.ts), with its retries and classification.
import { randomBytes } from 'node:crypto';
import { relayArgv } from '../adapters/rsync/held.js';
import type { Command, HeldList, RemoteListing, ToolOutput } from '../adapters/types.js';
import { holdSession, type Session } from '../exec/held.js';
import type { PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { formatCommand } from '../exec/format.js';
import type { Outcome } from '../adapters/types.js';
import { judge, progressLines, type AttemptContext } from './attempt.js';
import type { AfterAsk } from './host-after.js';

/**
 * Past this many planned bytes the relay's two `cat` copies (client side) cost more than the second
 * login they save; measured on loopback, see README "Speed" (one ssh session per run).
 */
export const RELAY_MAX_BYTES = 256 * 1024 * 1024;

/** LABSYNC_SSH_RELAY_MAX (bytes) moves the cut-over, for measuring it. */
const relayMaxBytes = (): number => {
  const n = Number(process.env.LABSYNC_SSH_RELAY_MAX);
  return process.env.LABSYNC_SSH_RELAY_MAX && Number.isFinite(n) && n >= 0 ? n : RELAY_MAX_BYTES;
};

/** A session kept open, with the listing it was opened for (what its host says after a transfer is read by it). */
export interface Held {
  readonly session: Session;
  readonly list: HeldList;
  /** What the host answers after the transfer instead of listing whole (host-after.ts); undefined: it lists whole. */
  readonly ask?: AfterAsk;
  /** Whether its host said it can answer the questions (HeldList.markTouch); if not, none are written to it. */
  readonly touchable: boolean;
}

/** Keyed by the side (engine/sides.ts) that was listed in the session. */
const sessions = new WeakMap<object, Held>();

/** Whether this pair's first listing keeps its session for the transfer (where the adapter's listing can be held: files.list's `held`). */
export function holdsSession(pair: ResolvedPair, action: { dryRun: boolean; seam: boolean; shard: boolean }): boolean {
  const share = process.env.LABSYNC_SSH_SHARE;
  // =0 / =1 choose the older ways (a login each, or one master from the start); LABSYNC_SSH_HOLD=0 turns this off.
  if (share === '0' || share === '1' || process.env.LABSYNC_SSH_HOLD === '0') return false;
  if (action.dryRun || action.seam || action.shard || process.platform === 'win32') return false;
  return pair.remote.type === 'ssh';
}

/** A token of this run for files.list's `hold`: the host's markers carry it, so a file name cannot forge them. */
export const heldToken = (): string => randomBytes(8).toString('hex');

/** The first listing through a session kept open; undefined: it failed, and the usual listing answers. */
export async function holdListing(pair: ResolvedPair, list: HeldList, ctx: AttemptContext): Promise<{ answer: RemoteListing; keep: (side: object) => void } | undefined> {
  const got = await holdSession(list.command, list.markTouch ? [list.mark, list.markTouch] : [list.mark], { timeoutMs: pair.timeoutMs, signal: ctx.signal });
  if (!('listed' in got)) return undefined;
  let answer: RemoteListing;
  try {
    answer = list.parse(got.listed);
  } catch {
    got.release();
    return undefined;
  }
  if ('unsupported' in answer) {
    got.release();
    return { answer, keep: () => undefined };
  }
  return { answer, keep: (side) => void sessions.set(side, { session: got, list, touchable: got.marked === 1 }) };
}

/** The held session of a side listed through one, taken (whoever takes it releases or uses it). */
export function takeSession(side: object): Held | undefined {
  const s = sessions.get(side);
  sessions.delete(side);
  return s;
}

/** Whether the plan's transfer is one rsync call worth relaying (no deletions: those are a second call). */
export function relayFits(pair: ResolvedPair, plan: PairPlan, commands: readonly Command[]): boolean {
  if (pair.remote.type !== 'ssh' || commands.length !== 1 || !relayArgv((commands[0] as Command).args, pair.remote)) return false;
  const bytes = [...plan.send, ...plan.replace].reduce((n, f) => n + f.size, 0);
  return plan.delete.length === 0 && bytes <= relayMaxBytes();
}

export type Relayed =
  | { readonly ok: ToolOutput; readonly warnings: readonly string[]; readonly after: Promise<RemoteListing | undefined> }
  | { readonly interrupted: true }
  | { readonly failed: Extract<Outcome, { kind: 'fatal' | 'retry' }>; readonly command: string };

/** Runs the transfer on the session (once: a failure is for the caller's usual path to retry). */
export async function relayTransfer(pair: ResolvedPair, command: Command, held: Held, ctx: AttemptContext): Promise<Relayed> {
  const args = pair.remote.type === 'ssh' ? relayArgv(command.args, pair.remote) : undefined;
  if (!args) throw new Error(`the transfer of ${pair.name} is not of the shape the relay takes`);
  const { adapter, redact, signal } = ctx;
  const onLine = progressLines(ctx);
  const stall = { ms: pair.stallTimeoutMs, ...(adapter.parseProgress ? { progress: adapter.parseProgress } : {}) };
  const { output, after } = await held.session.relay({ ...command, args }, { signal, timeoutMs: pair.timeoutMs, redact, stall, ...(onLine ? { onLine } : {}) }, questions(held));
  if (output.aborted) return { interrupted: true };
  const outcome = judge(output, command, adapter, pair);
  if (outcome.kind !== 'ok') return { failed: outcome, command: formatCommand(command, redact) };
  // The host's listing after rsync may still be coming: what follows rsync's end (the local listing) starts now.
  return { ok: output, warnings: [...(outcome.warning ? [outcome.warning] : []), ...(command.notice ? [command.notice] : [])], after: after.then((b) => afterListing(b, held)) };
}

/** The host's listing after a transfer that went over its own login: the held session lists again (or answers the patch's questions), and ends. */
export async function listAgain(pair: ResolvedPair, held: Held): Promise<RemoteListing | undefined> {
  const ask = questions(held);
  return afterListing(await held.session.ask(ask ? Buffer.concat([ask, Buffer.from(held.list.again)]) : held.list.again, pair.timeoutMs), held);
}

/** The lines that ask the host for the patch's answers ahead of the transfer's (or the listing's) line. */
const questions = ({ ask, list, touchable }: Held): Buffer | undefined => (touchable && ask && list.touch ? list.touch(ask.q) : undefined);

/** The host's listing after rsync --server exited 0, from the session's stderr; undefined if anything is off (a listing of its own then). */
async function afterListing(after: Buffer | undefined, { list, ask, touchable }: Held): Promise<RemoteListing | undefined> {
  if (!after) return undefined;
  try {
    const answers = touchable && ask && list.touch && list.answers ? list.answers(after, ask.q) : 'whole';
    if (answers === undefined) return undefined;
    return answers === 'whole' ? list.after(after) : await (ask as AfterAsk).patch(answers);
  } catch {
    return undefined;
  }
}
