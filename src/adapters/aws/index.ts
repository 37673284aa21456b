import { relative } from 'node:path';
import type { ResolvedPair } from '../../types.js';
import type { Adapter, Changes, Command } from '../types.js';
import type { StoreChecksum } from '../../verify/s3-judge.js';
import { backupArgv, copyOneArgv, headArgv, listArgv, s3Remote, s3Url, syncArgv } from './argv.js';
import { classify } from './classify.js';
import { parseActions, parseHead, parseListing, parseProgress, parseStats, parseVersion } from './parse.js';

function command(pair: ResolvedPair, args: string[], label: string, mutates: boolean, answers?: RegExp): Command {
  const remote = s3Remote(pair);
  // No credentials found must never mean a probe of 169.254.169.254 (TESTBED.md), unless asked for.
  const env: Record<string, string> = remote.instanceCredentials ? {} : { AWS_EC2_METADATA_DISABLED: 'true' };
  return { tool: 'aws', args, cwd: pair.root, env, mutates, label, pair: pair.name, ...(answers ? { answers } : {}) };
}

/** How aws will print the local folder: relative to its working folder (the manifest's). */
const localPrefix = (pair: ResolvedPair): string => relative(pair.root, pair.local);

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
  listRemote: (pair) => ({
    commands: [command(pair, listArgv(pair), `list ${pair.remoteLabel}`, false)],
    parse: ([o]) => parseListing(o?.stdout ?? '', s3Remote(pair).prefix),
  }),
  // An object gone since the listing has no checksum to read: "Not Found" is an answer, not a failure.
  readChecksums: (pair, paths) => ({
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
  }),
  classify,
  parseStats: (output) => parseStats(output.stdout),
  parseProgress,
};
