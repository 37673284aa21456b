import { relative } from 'node:path';
import type { ResolvedPair } from '../../types.js';
import type { Adapter, Changes, Command, FileSync, Probe } from '../types.js';
import type { StoreChecksum } from '../../verify/s3-judge.js';
import { backupArgv, copyOneArgv, headArgv, listArgv, s3Remote, s3Url, syncArgv } from './argv.js';
import { classify } from './classify.js';
import { parseActions, parseHead, parseListing, parseProgress, parseStats, parseVersion } from './parse.js';
import { deleteObjectsArgvs, filteredPullArgvs, plannedPaths, PULL_PER_OBJECT, stagedPushArgv, stageDir } from './planned.js';
import { AWS_PART_SIZE } from '../../verify/etag.js';

function command(pair: ResolvedPair, args: string[], label: string, mutates: boolean, answers?: RegExp): Command {
  const remote = s3Remote(pair);
  // No credentials found must never mean a probe of 169.254.169.254 (TESTBED.md), unless asked for.
  const env: Record<string, string> = remote.instanceCredentials ? {} : { AWS_EC2_METADATA_DISABLED: 'true' };
  return { tool: 'aws', args, cwd: pair.root, env, mutates, label, pair: pair.name, ...(answers ? { answers } : {}) };
}

/** How aws will print the local folder: relative to its working folder (the manifest's). */
const localPrefix = (pair: ResolvedPair): string => relative(pair.root, pair.local);

/** The commands for exactly the plan: backups, copies (one staged `s3 cp --recursive` for many), then batched deletions. */
const transferPlan: FileSync['transfer'] = (pair, direction, plan, ctx) => {
  const files = plannedPaths(plan);
  const gone = plan.delete.map((f) => f.path);
  if (direction === 'pull') {
    const copies = files.length <= PULL_PER_OBJECT
      ? files.map((key) => command(pair, copyOneArgv(pair, 'pull', key), `pull ${key}`, true))
      : filteredPullArgvs(pair, files).map((args, i) => command(pair, args, `pull ${pair.name} (part ${i + 1})`, true));
    return { send: copies, delete: [], deleteLocal: gone };
  }
  // Backups first: a replaced or deleted object is copied (server-side) into the dated prefix.
  const keep = pair.backup ? [...plan.replace.map((f) => f.path), ...gone] : [];
  // Staged for one file too: `s3 cp FILE` refuses a file gone since the plan ("does not exist", a stop),
  // where the staged copy skips it with a warning, as rsync does (a drain's first batch is one file, the newest).
  const stage = files.length > 0 ? stageDir(pair, ctx) : undefined;
  const sends = stage ? [command(pair, stagedPushArgv(pair, stage), `push ${pair.name} (${files.length} file${files.length === 1 ? '' : 's'})`, true)] : [];
  // A skipped upload must stop the deletions after it (a rename's old name deleted, the new one never
  // sent); with none to follow, a file gone since the listing is a warning, as rsync's exit 24 is.
  const strict = (c: Command): Command => (gone.length ? { ...c, skipFails: true } : c);
  return {
    send: [...keep.map((key) => command(pair, backupArgv(pair, key, ctx), `back up ${key}`, true)), ...sends.map(strict)],
    // Only after every copy succeeded: the engine stops at the first command that fails.
    delete: deleteObjectsArgvs(pair, gone).map((args) => command(pair, args, `delete ${gone.length} objects from ${pair.remoteLabel}`, true)),
    ...(stage ? { stage: { dir: stage, paths: files } } : {}),
  };
};

/** An object gone since the listing has no checksum to read: "Not Found" is an answer, not a failure. */
function readChecksums(pair: ResolvedPair, paths: readonly string[]): Probe<ReadonlyMap<string, StoreChecksum>> {
  return {
    commands: paths.map((key) => command(pair, headArgv(pair, key), `read the checksum of ${key}`, false, /\(404\)|Not Found/)),
    parse: (outs) => {
      const found = new Map<string, StoreChecksum>();
      paths.forEach((key, i) => {
        const out = outs[i];
        const sum = out?.exitCode === 0 ? parseHead(out.stdout) : undefined;
        if (sum) found.set(key, sum);
      });
      return found;
    },
  };
}

export const aws: Adapter = {
  tool: 'aws',
  capabilities: {
    copiesFiles: true,
    directions: ['push', 'pull'],
    remoteTypes: ['s3'],
    delete: true,
    backup: true,
    bwlimit: false,
    transfers: false,
    verify: ['checksum', 'size'],
  },
  install: { pipx: 'pipx install awscli', brew: 'brew install awscli', url: 'https://aws.amazon.com/cli/' },
  localBackup: true,
  version: () => ({
    commands: [{ tool: 'aws', args: ['--version'], cwd: process.cwd(), env: { AWS_EC2_METADATA_DISABLED: 'true' }, mutates: false, label: 'aws version' }],
    parse: (outs) => parseVersion(`${outs[0]?.stdout ?? ''} ${outs[0]?.stderr ?? ''}`),
  }),
  transfer: (pair, direction, ctx, changes?: Changes) => {
    if (direction === 'bisync') throw new Error('aws has no bisync');
    // Push with backup: copy what the mirror will replace or delete into the dated prefix first.
    const keep = direction === 'push' && pair.backup && changes ? [...new Set([...(changes.replace ?? []), ...changes.delete])] : [];
    return [
      ...keep.map((key) => command(pair, backupArgv(pair, key, ctx), `back up ${key}`, true)),
      command(pair, syncArgv(pair, direction, ctx, false), `${direction} ${pair.name}`, true),
    ];
  },
  preview: (pair, direction, ctx) => {
    if (direction === 'bisync') throw new Error('aws has no bisync');
    const url = s3Url(s3Remote(pair));
    return {
      commands: [
        command(pair, listArgv(pair), `list ${pair.remoteLabel}`, false),
        command(pair, syncArgv(pair, direction, ctx, true), `dry run ${direction} ${pair.name}`, false),
      ],
      parse: ([listing, dry]) => {
        const objects = parseListing(listing?.stdout ?? '', s3Remote(pair).prefix);
        const actions = parseActions(dry?.stdout ?? '', url, localPrefix(pair));
        const keys = new Set(objects.map((o) => o.path));
        if (direction === 'push') return { ...actions, destFiles: objects.length, replace: actions.transfer.filter((k) => keys.has(k)) };
        const sizes = new Map(objects.map((o) => [o.path, o.size]));
        return { ...actions, sourceFiles: objects.length, transferBytes: actions.transfer.reduce((sum, k) => sum + (sizes.get(k) ?? 0), 0) };
      },
    };
  },
  repair: (pair, direction, paths) => paths.map((key) => command(pair, copyOneArgv(pair, direction, key), `repair ${key}`, true)),
  // S3 keeps an MD5 (or a multipart ETag) of every object in its listing: the plan compares content.
  files: {
    list: (pair) => ({
      remote: {
        commands: [command(pair, listArgv(pair), `list ${pair.remoteLabel}`, false)],
        parse: ([o]) => parseListing(o?.stdout ?? '', s3Remote(pair).prefix),
      },
      // sha256 too, in the same read: the receipt's checksum list takes it from the cache (else a second read of the tree).
      local: { md5: true, etagPartSize: s3Remote(pair).partSize ?? AWS_PART_SIZE, ...(s3Remote(pair).partThreshold ? { etagThreshold: s3Remote(pair).partThreshold } : {}), mtime: true, sha256: true },
      modifyWindowMs: 1000,
      s3: s3Remote(pair),
      checksums: (paths) => readChecksums(pair, paths),
    }),
    transfer: transferPlan,
  },
  classify,
  parseStats: (output) => parseStats(output.stdout),
  parseProgress,
};
