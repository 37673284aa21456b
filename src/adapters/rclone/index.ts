import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedPair } from '../../types.js';
import type { Adapter, Command, PlanContext } from '../types.js';
import { bisyncArgv, bisyncWorkdir, checkArgv, copyArgv, ends, listArgv, listsMd5, location, lsjsonArgv, plannedArgv, plannedDeleteArgv, traverses, repairArgv, sizeArgv } from './argv.js';
import { classify } from './classify.js';
import { backendType, rcloneS3Target } from './s3-target.js';
import { opaqueEtagsOf } from '../../plan/compute.js';
import type { Entry } from '../../verify/compare.js';
import { atLeast, BISYNC_MODERN, INSTALL_HINT, versionProblems } from './features.js';
import { changesFromDryRun, downloadRead, listedPaths, parseCombined, parseLsjson, parseProgress, parseStats, parseVersion, sizeCount } from './parse.js';

/**
 * Always an explicit config path: a bare rclone call creates ~/.config/rclone (TESTBED.md).
 * $RCLONE_CONFIG, else the user's own file if it exists (remotes named from it), else nothing at all.
 */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RCLONE_CONFIG) return env.RCLONE_CONFIG;
  const own = join(homedir(), '.config', 'rclone', 'rclone.conf');
  return existsSync(own) ? own : '/dev/null';
}

function command(pair: ResolvedPair, args: string[], label: string, mutates: boolean, answers?: RegExp, input?: string, ctx?: PlanContext): Command {
  // rclone 1.60's S3 backend fails outright when AWS_CA_BUNDLE is set (TESTBED.md).
  const version = ctx?.toolVersions?.rclone;
  return {
    tool: 'rclone', args, cwd: pair.root, env: location(pair.remote).env, unsetEnv: ['AWS_CA_BUNDLE'], mutates, label, pair: pair.name,
    ...(answers ? { answers } : {}), ...(input === undefined ? {} : { input }), ...(version ? { toolVersion: version } : {}),
  };
}

/**
 * The backend of the pair's remote as rclone will find it (its config file names most remotes, not the
 * manifest): an S3 one is listed with --hash and sent without a HEAD per object, as the manifest's are.
 */
function backendOf(pair: ResolvedPair): string {
  return backendType(pair.remote, process.env, configPath(), (file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  });
}

/** bisync ≥ 1.66's lock file: {"Session":…,"PID":"1234",…}. */
function lockPid(text: string): number | undefined {
  try {
    const pid = Number((JSON.parse(text) as { PID?: unknown }).PID);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export const rclone: Adapter = {
  tool: 'rclone',
  capabilities: {
    copiesFiles: true,
    directions: ['push', 'pull', 'bisync'],
    remoteTypes: ['local', 'rclone', 's3'],
    delete: true,
    backup: true,
    bwlimit: true,
    transfers: true,
    verify: ['checksum', 'size'],
  },
  install: { apt: 'apt-get install -y rclone', brew: 'brew install rclone', url: 'https://rclone.org/install/' },
  version: () => ({
    // --config too: a bare `rclone version` makes ~/.config/rclone (seen in a fresh HOME by a review).
    commands: [{ tool: 'rclone', args: ['version', '--config', configPath()], cwd: process.cwd(), env: {}, unsetEnv: [], mutates: false, label: 'rclone version' }],
    parse: (outs) => parseVersion(outs[0]?.stdout ?? ''),
  }),
  versioned: { problems: versionProblems, hint: INSTALL_HINT },
  // 1.60 never expires its lock: the safety stop after an interruption stays as it was there.
  toolLock: (pair, direction, ctx) => (direction === 'bisync' && atLeast(ctx.toolVersions?.rclone, BISYNC_MODERN) ? { dir: bisyncWorkdir(pair), pidOf: lockPid } : undefined),
  transfer: (pair, direction, ctx) => {
    const cfg = configPath();
    if (direction === 'bisync') return [command(pair, bisyncArgv(pair, ctx, cfg, false), `bisync ${pair.name}`, true, undefined, undefined, ctx)];
    return [command(pair, copyArgv(pair, direction, ctx, cfg, false), `${direction} ${pair.name}`, true, undefined, undefined, ctx)];
  },
  preview: (pair, direction, ctx) => {
    const cfg = configPath();
    if (direction === 'bisync') {
      return { commands: [command(pair, bisyncArgv(pair, ctx, cfg, true), `dry run bisync ${pair.name}`, false, undefined, undefined, ctx)], parse: ([o]) => changesFromDryRun(o?.stderr ?? '') };
    }
    const [src, dst] = ends(pair, direction);
    return {
      commands: [
        command(pair, sizeArgv(pair, src, cfg), `count source ${pair.name}`, false),
        // A destination not made yet holds nothing: the first push creates it.
        command(pair, listArgv(pair, dst, cfg), `list destination ${pair.name}`, false, /directory not found/),
        command(pair, copyArgv(pair, direction, ctx, cfg, true), `dry run ${direction} ${pair.name}`, false),
      ],
      parse: ([source, dest, dry]) => {
        const planned = changesFromDryRun(dry?.stderr ?? '');
        const there = new Set(dest?.exitCode === 0 ? listedPaths(dest.stdout) : []);
        return { ...planned, replace: planned.transfer.filter((p) => there.has(p)), sourceFiles: sizeCount(source?.stdout ?? ''), destFiles: there.size };
      },
    };
  },
  files: {
    list: (pair, direction) => {
      if (direction === 'bisync') return undefined; // bisync keeps its own listings and path
      const backend = backendOf(pair);
      const md5 = listsMd5(pair.remote, backend);
      // `etag: opaque`: rclone takes a single-part object's ETag for its MD5, which such a store's is not.
      const untrusted = (entries: Entry[]): Entry[] => (opaqueEtagsOf(pair.remote) ? entries.map(({ md5: _md5, ...e }) => e) : entries);
      return {
        // A remote folder not made yet holds nothing to a push (which creates it); to a pull it is a
        // source that does not exist (a typo in the path), never an empty one that would report in sync.
        remote: { commands: [command(pair, lsjsonArgv(pair, configPath(), backend), `list ${pair.remoteLabel}`, false, direction === 'push' ? /directory not found/ : undefined)], parse: ([o]) => (o?.exitCode === 0 ? untrusted(parseLsjson(o.stdout, md5)) : []) },
        // sha256 too, in the same read: the receipt's checksum list takes it from the cache (else a second read of the tree).
        local: md5 ? { md5: true, mtime: true, sha256: true } : {},
        ...(md5 ? { s3Direct: { target: (env, read) => rcloneS3Target(pair.remote, env, configPath(env), read) } } : {}),
        // Local folders keep nanoseconds; most remotes (sftp, ftp, many clouds) whole seconds.
        modifyWindowMs: pair.remote.type === 'local' ? 1 : 1000,
      };
    },
    // A copy of what the plan sends, then a sync of what it deletes: one sync over both deleted a planned
    // replacement whose source went during the transfer, a deletion no guard had counted.
    transfer: (pair, direction, plan, ctx) => {
      const sending = [...plan.send, ...plan.replace].map((f) => f.path);
      const deleting = plan.delete.map((f) => f.path);
      const backend = backendOf(pair);
      const lines = (paths: readonly string[]): string => `${paths.join('\n')}\n`;
      const argv = (rerun?: string): string[] => plannedArgv(pair, direction, ctx, configPath(), traverses(sending.length, plan.destFiles), rerun, backend);
      const sent = command(pair, argv(), `${direction} ${pair.name} (${sending.length} planned)`, true, undefined, lines(sending), ctx);
      const deleted = command(pair, plannedDeleteArgv(pair, direction, ctx, configPath(), traverses(deleting.length, plan.destFiles), backend), `delete ${deleting.length} from ${pair.name}`, true, undefined, lines(deleting), ctx);
      return { send: sending.length ? [pair.backup ? { ...sent, retryArgs: argv } : sent] : [], delete: deleting.length ? [deleted] : [] };
    },
  },
  repair: (pair, direction, _paths, ctx) => [command(pair, repairArgv(pair, direction, ctx, configPath()), `repair ${pair.name}`, true, undefined, undefined, ctx)],
  verify: (pair, mode, ctx) => ({
    commands: [command(pair, checkArgv(pair, mode, configPath(), ctx.full), `verify ${pair.name} (${mode})`, false, undefined, undefined, ctx)],
    parse: ([o]) => {
      const report = parseCombined(o?.stdout ?? '', o?.stderr ?? '');
      const read = ctx.full ? downloadRead(o?.stderr ?? '') : undefined;
      return read ? { ...report, bytesHashed: read } : report;
    },
  }),
  classify,
  parseStats: (output) => parseStats(output.stderr),
  parseProgress,
};
