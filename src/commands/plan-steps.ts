// What `labsync plan` prints for a pair whose run labsync plans itself (issue 12): the listing of each
// side, the transfer of exactly the planned files, the deletions after it, and the verify as what it
// is (labsync's comparison of the listings). Pure: nothing is listed or run, so where an argv holds
// the plan's own files (aws keys) it shows a placeholder, and a file list on stdin is said to be the plan's.
import type { Adapter, Command, Lister, PlanContext, PlannedTransfer, TransferHow } from '../adapters/types.js';
import { storeLister } from '../adapters/files.js';
import { formatCommand } from '../exec/format.js';
import type { Redactor } from '../exec/redact.js';
import { hasDigest, listUrl, ownListingLine, targetOf } from '../engine/listings.js';
import { treeExcludes } from '../engine/pair-tree.js';
import { plansItself } from '../engine/plan-run.js';
import { describePush, directPush } from '../engine/s3-push.js';
import { racyAsk } from '../engine/sides.js';
import { withFastCipher } from '../engine/ssh-cipher.js';
import { holdsSession, RELAY_MAX_BYTES } from '../engine/ssh-held.js';
import type { PairPlan, PlannedFile } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { PARTIAL_MIN_BYTES } from '../adapters/rsync/index.js';
import { findArgv } from '../verify/find-list.js';

/** One line of a pair's plan: a command the run executes (with why), or a step labsync does itself (`command` absent). */
export interface PlanStep {
  readonly step: string;
  readonly command?: string;
  readonly note?: string;
  /** Where a listing command runs (find lists the folder it runs in). */
  readonly cwd?: string;
}

/** Stands for a file the plan names, where a tool takes it in its argv (the plan is not known until the run lists). */
export const PLANNED = '<planned-file>';
export const STDIN_LIST = '< (the files the plan lists)';

/** `< (N paths)` (what formatCommand shows for a file list on stdin) said as what it is: the plan's files. */
function shown(c: Command, redact: Redactor): string {
  if (c.input === undefined) return formatCommand(c, redact);
  const { input: _input, ...rest } = c;
  return `${formatCommand(rest, redact)} ${STDIN_LIST}`;
}

/** The held listing's script is the same every run; what a run asks (its token, the files to hash) comes on stdin. */
function heldLine(c: Command, redact: Redactor): string {
  const { input: _input, ...rest } = c;
  return `${formatCommand(rest, redact)} ${HELD_INPUT}`;
}

export const HELD_INPUT = "< (this run's token and the files to hash)";

const file = (path: string, reason: PlannedFile['reason']): PlannedFile => ({ path, size: 1, reason });

/** A plan of `files` new files (and one extra at the destination, `deletes`) against a destination of `destFiles`. */
function samplePlan(files: number, deletes: boolean, destFiles = 1000): PairPlan {
  const send = Array.from({ length: files }, (_, i) => file(i ? `${PLANNED}.gz` : PLANNED, 'missing'));
  return { send, replace: [], delete: deletes ? [file(`${PLANNED}-extra`, 'extra')] : [], sourceFiles: destFiles + files, destFiles, sourceDigest: '', destDigest: '' };
}

/**
 * The transfer's commands for the usual plan (a few changed files), then those the tool is given for
 * other plans where they differ (one file, most of the destination, with deletions), each saying
 * when; deletions last. `first`: the lines before aws-cli's (labsync's own PUT).
 */
function transferSteps(pair: ResolvedPair, files: NonNullable<Adapter['files']>, direction: 'push' | 'pull', ctx: PlanContext, redact: Redactor, o: { usual: string; first?: PlanStep[]; tree?: boolean }): PlanStep[] {
  const forms: { plan: PairPlan; how?: TransferHow; when?: string }[] = [
    { plan: samplePlan(2, false) },
    { plan: samplePlan(1, false), when: 'when the plan holds one file' },
    { plan: samplePlan(2, false, 2), when: 'when the plan holds more than a tenth of the destination' },
    { plan: { ...samplePlan(1, false), send: [{ ...file(PLANNED, 'missing'), size: PARTIAL_MIN_BYTES }] }, when: 'when a planned file is 1 MiB or more: a stopped one waits aside to be resumed' },
    ...(o.tree ? [{ plan: samplePlan(2, false, 0), how: { tree: true }, when: 'when the plan is every source file and the destination holds none (a first copy): the tool walks the tree itself' }] : []),
    { plan: { ...samplePlan(1, false), replace: [file(`${PLANNED}-same-size-and-mtime`, 'content')] }, when: 'when the plan replaces a file whose size and mtime match but whose content differs (found by the hashes)' },
    ...(pair.delete ? [{ plan: samplePlan(2, true), when: 'when the plan also deletes' }] : []),
  ];
  const steps: PlanStep[] = [...(o.first ?? [])];
  const seen = new Set<string>();
  let deletions: PlannedTransfer | undefined;
  for (const f of forms) {
    const t = files.transfer(pair, direction, f.plan, ctx, { ...f.how, ...(f.plan.delete.length ? { deleteTargets: f.plan.delete.map((d) => d.path) } : {}) });
    if (f.plan.delete.length) deletions = t;
    const lines = t.send.map((c) => ({ command: shown(c, redact), apart: c.label.endsWith('(uncompressed)') }));
    if (lines.every((l) => seen.has(l.command))) continue;
    for (const l of lines) seen.add(l.command);
    // rsync sends files that do not compress (by their names: compress.ts) in a call of their own.
    const note = (apart: boolean): string => f.when ?? (apart ? 'when the plan holds files that do not compress (.gz, .zst, images, …): those, in a call of their own without --compress' : `${o.usual}${t.stage ? `, linked into ${redact(t.stage.dir)}` : ''}; only when the plan lists any`);
    steps.push(...lines.map((l) => ({ step: 'transfer', command: l.command, note: note(l.apart) })));
  }
  steps.push(...(deletions?.delete ?? []).map((c) => ({ step: 'delete', command: shown(c, redact), note: 'when the plan deletes: what it deletes, only after every transfer succeeded' })));
  if (deletions?.deleteLocal) steps.push({ step: 'delete', note: 'labsync deletes the local files the plan deletes, after every transfer succeeded' });
  return steps;
}

/** The steps of a planned run, or undefined: the pair's run does not plan (git, dvc, bisync, …); it keeps its own lines. */
export function plannedSteps(pair: ResolvedPair, adapter: Adapter, direction: 'push' | 'pull', ctx: PlanContext, redact: Redactor): PlanStep[] | undefined {
  if (plansItself(pair, adapter)) return treeSteps(pair, adapter, direction, ctx, redact);
  if (process.env.LABSYNC_PLAN === '0') return undefined;
  const lister = storeLister(adapter, pair, direction);
  return lister ? storeSteps(pair, adapter, lister, direction, ctx, redact) : undefined;
}

/** A folder listed by labsync's own find (engine/sides.ts, verify/stat-tree.ts): the same argv in each folder. */
function findStep(pair: ResolvedPair, path: string, side: string, redact: Redactor): PlanStep {
  const [tool, ...args] = findArgv(treeExcludes(pair), { links: true });
  const command: Command = { tool: tool as Command['tool'], args, cwd: path, env: { LC_ALL: 'C' }, mutates: false, label: `list ${path}` };
  return { step: 'list', command: formatCommand(command, redact), cwd: redact(path), note: `${side}, run in ${redact(path)} (without GNU find: labsync's own walk)` };
}

/** rsync to a local folder or an ssh host (plan-run.ts). */
function treeSteps(given: ResolvedPair, adapter: Adapter, direction: 'push' | 'pull', ctx: PlanContext, redact: Redactor): PlanStep[] {
  // The run's ssh commands carry the cheaper cipher where labsync may choose it.
  const pair = withFastCipher(given);
  const files = adapter.files as NonNullable<Adapter['files']>;
  // `compress: true` over ssh: both ends' rsync are asked first, once per run (engine/compress-choice.ts), before any cipher is chosen.
  const asks = given.compress && given.remote.type === 'ssh' && adapter.compressChoice ? adapter.compressChoice(given).commands : [];
  const steps: PlanStep[] = asks.map((c) => ({ step: 'compress', command: formatCommand(c, redact), note: "which compression both ends' rsync offer; where both list zstd the transfer adds --compress-choice=zstd" }));
  steps.push(findStep(pair, pair.local, 'the local side', redact));
  const held = pair.remote.type === 'ssh' && holdsSession(pair, { dryRun: false, seam: false, shard: false });
  if (pair.remote.type === 'local') steps.push(findStep(pair, pair.remote.path, 'the other side', redact));
  else {
    const ask = racyAsk(pair);
    const list = files.list(pair, direction, { excludes: treeExcludes(pair), hash: ask, ...(held ? { hold: 'token' } : {}) });
    if (list && 'tree' in list) {
      const host = `the host, in one ssh connection (GNU find -printf${ask.length ? `; sha256sum of ${ask.length} file${ask.length === 1 ? '' : 's'} too recent to trust last run` : ''})`;
      if (list.held) steps.push({ step: 'list', command: heldLine(list.held.command, redact), note: `${host}, kept open for the transfer and the listing after it` });
      else steps.push(...list.tree.commands.map((c) => ({ step: 'list', command: formatCommand(c, redact), note: host })));
    }
  }
  steps.push({ step: 'plan', note: 'labsync compares the two listings and its hash caches: new, changed and (mirror) extra files' });
  const relay = held ? `; up to ${RELAY_MAX_BYTES / 1024 / 1024} MiB and no deletions it runs through the listing's session, else over a login of its own` : '';
  // Only here may the tool walk the tree itself (plan-run.ts `tree`: a first push).
  steps.push(...transferSteps(pair, files, direction, ctx, redact, { usual: `exactly the files the plan lists${relay}`, tree: true }));
  if (pair.verify === 'none') return steps;
  const where = pair.remote.type === 'ssh' ? ": here by labsync, on the host by sha256sum over the same ssh connection (a host without GNU find: rsync's own dry run and --checksum compare, as before; with GNU find but no sha256sum: labsync's plan, and a file there that would have to be read compared by rsync --checksum; `labsync doctor` says which)" : ', by labsync';
  const what = pair.verify === 'checksum'
    ? `proves the files rsync wrote by rsync's own whole-file transfer checksum (proof \`rsync-transfer-checksum\`; their sha256 for the receipt is read at the source), and hashes (sha256) only the other files whose stat key (size, mtime, ctime, inode) changed since they were last hashed${where}; \`labsync check --full\` reads every byte`
    : 'compares sizes and modification times, reads no content';
  steps.push({ step: 'verify', note: `labsync lists both sides again after a transfer (none when nothing moved) and compares the listings; ${what}` });
  return steps;
}

/** aws, rclone, hf, mlflow (plan-pair.ts): the store listed with the checksums it keeps. */
function storeSteps(pair: ResolvedPair, adapter: Adapter, lister: Lister, direction: 'push' | 'pull', ctx: PlanContext, redact: Redactor): PlanStep[] {
  const files = adapter.files as NonNullable<Adapter['files']>;
  const steps: PlanStep[] = [];
  const target = targetOf(lister);
  // A listing's stdin is its own (a script, the files to hash), shown as a run's log shows it.
  const toolList = lister.remote.commands.map((c) => formatCommand(c, redact));
  if (target && !('reason' in target)) {
    steps.push({ step: 'list', command: `${ownListingLine(target)})`, note: `the remote, by labsync over HTTP (if it fails: ${toolList.join('; ')})` });
  } else steps.push(...toolList.map((command) => ({ step: 'list', command, note: 'the remote' })));
  const digest = lister.local.md5 ? 'MD5' : lister.local.etagPartSize ? 'ETag' : lister.local.sha256 ? 'sha256' : undefined;
  steps.push({ step: 'list', note: `the local side, walked by labsync${digest ? ` with the ${digest} from its hash cache (only files whose stat key changed are read)` : ' (sizes and modification times)'}` });
  steps.push({ step: 'plan', note: 'labsync compares the two listings: new, changed and (mirror) extra files' });
  // labsync's own PUTs (s3-push.ts), and with a mirror's deletions after them.
  const own = direction === 'push' ? directPush(pair, lister, samplePlan(2, false)) : undefined;
  const put: PlanStep[] = own && !('reason' in own) ? [{ step: 'transfer', command: ownPutLine(describePush(own)), note: 'plans with no file to back up or upload in parts (8 MiB or more); those by aws-cli, below' }] : [];
  const mirror = own && !('reason' in own) && pair.delete ? directPush(pair, lister, samplePlan(2, true)) : undefined;
  if (mirror && !('reason' in mirror)) put.push({ step: 'transfer', command: ownPutLine(describePush(mirror)), note: 'when the plan also deletes (one that only deletes: DELETE the planned deletions under the same address)' });
  steps.push(...transferSteps(pair, files, direction, ctx, redact, { usual: 'exactly the files the plan lists', first: put }));
  const each = (c: Command): string => shown(c, redact);
  if (pair.verify === 'none') return steps;
  if (!hasDigest(lister.local)) {
    const check = adapter.verify?.(pair, pair.verify, ctx).commands ?? [];
    steps.push(...check.map((c) => ({ step: 'verify', command: each(c), note: `${pair.tool}'s own comparison (the listing holds no checksum here)` })));
    return steps;
  }
  const again = direction === 'push' ? 'after a push that moved anything labsync lists the remote again' : 'after a pull labsync walks the local side again';
  if (direction === 'push' && target && !('reason' in target)) {
    steps.push({ step: 'verify', command: `${listUrl(target)} list-objects-v2 of the planned keys (labsync's own listing)`, note: 'when the planned keys are at most a hundredth of the destination, one request each; else the whole listing again, as above' });
  }
  const how = pair.verify === 'checksum' ? `compares the ${digest} the listing gives with the local hash cache; nothing read at the remote, locally only files whose stat key changed` : 'compares sizes (and modification times where the remote keeps them); reads no content';
  steps.push({ step: 'verify', note: `${again} and ${how}` });
  return steps;
}

/** labsync's own PUTs as a run shows them, the counts (the plan's) said in words. */
export const ownPutLine = (line: string): string => line.replace(/^PUT \d+ objects? \(\d+ bytes\)/, 'PUT the planned objects').replace(/DELETE \d+ objects?/, 'DELETE the planned deletions');

/** The plan's text lines for one pair: a command with its step, or a step labsync takes itself as a comment. */
export function stepLine(s: PlanStep): string {
  if (s.command === undefined) return `# ${s.step}: ${s.note ?? ''}`;
  return `${s.command}    # ${s.step}${s.note ? `: ${s.note}` : ''}`;
}
