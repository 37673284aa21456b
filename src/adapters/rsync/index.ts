import { needsContentCompare, nulList } from '../../plan/changes.js';
import type { Adapter, Command, FileSync, Probe, ToolOutput } from '../types.js';
import type { PairPlan } from '../../plan/types.js';
import type { TransferHow } from '../files.js';
import { deleteArgv, filesArgv, previewArgv, repairArgv, transferArgv, verifyArgv } from './argv.js';
import { hashCommand, listCommand, parseRemoteHashes, parseRemoteListing } from './remote.js';
import { heldList, holdable } from './held.js';
import { classify } from './classify.js';
import { compressProbe, incompressible } from './compress.js';
import { INCOMPLETE, publishCommand, pruneCommand, stateProbe, unlinkCommand } from './snapshots.js';
import { changesFromItemized, parseProgress, parseStats, parseVersion, verifyFromItemized, writtenFromItemized } from './parse.js';

function one<T>(tool: 'rsync', args: string[], cwd: string, label: string, parse: (stdout: string) => T): Probe<T> {
  return { commands: [{ tool, args, cwd, mutates: false, label }], parse: (outputs) => parse(outputs[0]?.stdout ?? '') };
}

/** A host's folder as a tree with stat keys; a local folder is walked by labsync itself. */
const list: FileSync['list'] = (pair, _direction, opts) => {
  if (pair.remote.type !== 'ssh') return undefined;
  const excludes = opts?.excludes ?? [];
  const ask = opts?.hash?.length ? opts.hash : undefined;
  const tree = { commands: [listCommand(pair, pair.remote, excludes, ask)], parse: ([o]: readonly ToolOutput[]) => parseRemoteListing(o?.bytes ?? Buffer.from(o?.stdout ?? '', 'utf8'), excludes) };
  // A folder whose path holds a newline is never held: the host reads its lines one by one.
  return opts?.hold && holdable(pair.remote) ? { tree, held: heldList(pair, pair.remote, excludes, opts.hold, ask ?? []) } : { tree };
};

const hash: NonNullable<FileSync['hash']> = (pair, paths) => {
  if (pair.remote.type !== 'ssh') throw new Error('only ssh remotes are hashed through the adapter');
  return { commands: [hashCommand(pair, pair.remote, paths)], parse: ([o]) => parseRemoteHashes(o?.bytes ?? Buffer.from(o?.stdout ?? '', 'utf8')) };
};

/** The smallest planned file whose stopped transfer is worth resuming from what arrived (rsync's --partial-dir). */
export const PARTIAL_MIN_BYTES = 1024 * 1024;

/**
 * Whether rsync keeps what arrived of a stopped file for the next run to resume from. Not for a drain
 * (whole files only), and not when every planned file is smaller than PARTIAL_MIN_BYTES: sending such
 * a file again costs less than the look rsync then takes for a partial of each file it writes (50k
 * small files: ~0.18 s of a 2.3 s first push, docs/speed-notes.md). A repair's plan carries no sizes: kept.
 * A partial left by an earlier run (its plan held a large file) then stays where it is, hidden from
 * every listing, until a run sends that file with --partial-dir again (README, "No half files").
 */
export function worthResuming(plan: PairPlan, how: TransferHow): boolean {
  // Between two local folders too, though rsync resumes nothing there (it sends whole files): a run with
  // --partial-dir removes the partial it finds of a file it sends, which one without it would leave (review 70).
  if (how.whole) return false;
  return Boolean(how.repair) || plan.send.some((f) => f.size >= PARTIAL_MIN_BYTES) || plan.replace.some((f) => f.size >= PARTIAL_MIN_BYTES);
}

/** Exactly the plan's files through --files-from (or the whole tree as rsync walks it), then its deletions through --delete-missing-args. */
const planned: FileSync['transfer'] = (pair, direction, plan, ctx, how = {}) => {
  const paths = [...plan.send, ...plan.replace].map((f) => f.path);
  const targets = how.deleteTargets ?? plan.delete.map((f) => f.path);
  const content = needsContentCompare(plan);
  // A mirror's file may replace a folder at the destination: one the plan empties (its files planned
  // deletions), or one holding only empty folders, which no listing shows. Not a repair's re-send.
  const makeWay = !how.repair;
  const keepPartial = worthResuming(plan, how);
  const call = (files: readonly string[], compress: boolean, note: string, tree = false): Command => ({
    tool: 'rsync', args: filesArgv(pair, direction, ctx, content, { compress, keepPartial, tree, makeWay }), cwd: pair.root, mutates: true,
    label: `${direction} ${files.length} file${files.length === 1 ? '' : 's'} of ${pair.name}${note}`, ...(tree ? {} : { input: nulList(files) }),
    ...(pair.backup ? { retryArgs: (rerun: string) => filesArgv(pair, direction, ctx, content, { compress, keepPartial, tree, makeWay, rerun }) } : {}),
  });
  const send = (): Command[] => {
    if (!paths.length) return [];
    if (!pair.compress) return [call(paths, false, how.tree ? ' (the whole tree)' : '', how.tree)];
    // Files in formats that do not compress go in a call of their own, uncompressed (see compress.ts).
    const squeeze = paths.filter((p) => !incompressible(p));
    const asIs = paths.filter(incompressible);
    return [...(squeeze.length ? [call(squeeze, true, ' (compressed)')] : []), ...(asIs.length ? [call(asIs, false, ' (uncompressed)')] : [])];
  };
  const del: Command[] = targets.length
    ? [{ tool: 'rsync', args: deleteArgv(pair, direction, ctx), cwd: pair.root, mutates: true, label: `delete ${targets.length} extra in ${pair.name}`, input: nulList(targets) }]
    : [];
  return { send: send(), delete: del };
};

export const rsync: Adapter = {
  tool: 'rsync',
  capabilities: {
    copiesFiles: true,
    directions: ['push', 'pull'],
    remoteTypes: ['local', 'ssh'],
    delete: true,
    backup: true,
    bwlimit: true,
    transfers: false,
    verify: ['checksum', 'size'],
  },
  install: { apt: 'apt-get install -y rsync', brew: 'brew install rsync', url: 'https://rsync.samba.org/' },
  version: () => one('rsync', ['--version'], process.cwd(), 'rsync version', parseVersion),
  transfer: (pair, direction, ctx) => {
    if (direction === 'bisync') throw new Error('rsync has no bisync');
    return [{ tool: 'rsync', args: transferArgv(pair, direction, ctx), cwd: pair.root, mutates: true, label: `${direction} ${pair.name}` }];
  },
  preview: (pair, direction) => {
    if (direction === 'bisync') throw new Error('rsync has no bisync');
    return one('rsync', previewArgv(pair, direction), pair.root, `dry run ${direction} ${pair.name}`, changesFromItemized);
  },
  repair: (pair, direction, _paths, ctx) => [{ tool: 'rsync', args: repairArgv(pair, direction, ctx), cwd: pair.root, mutates: true, label: `repair ${pair.name}` }],
  verify: (pair, mode) => one('rsync', verifyArgv(pair, mode), pair.root, `verify ${pair.name} (${mode})`, verifyFromItemized),
  files: { list, hash, transfer: planned },
  compressChoice: (pair) => compressProbe(pair),
  snapshots: { incomplete: INCOMPLETE, state: stateProbe, publish: publishCommand, prune: pruneCommand, unlink: unlinkCommand },
  parseWritten: (output) => writtenFromItemized(output.stdout),
  classify,
  parseStats: (output) => parseStats(output.stdout),
  parseProgress,
};
