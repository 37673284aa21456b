import type { Adapter, Probe } from '../types.js';
import { previewArgv, repairArgv, transferArgv, verifyArgv } from './argv.js';
import { classify } from './classify.js';
import { changesFromItemized, parseProgress, parseStats, parseVersion, verifyFromItemized } from './parse.js';

function one<T>(tool: 'rsync', args: string[], cwd: string, label: string, parse: (stdout: string) => T): Probe<T> {
  return { commands: [{ tool, args, cwd, mutates: false, label }], parse: (outputs) => parse(outputs[0]?.stdout ?? '') };
}

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
  classify,
  parseStats: (output) => parseStats(output.stdout),
  parseProgress,
};
