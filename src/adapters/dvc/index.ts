import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PairSetupError } from '../../errors.js';
import type { ResolvedPair } from '../../types.js';
import type { Adapter, Command, PlanContext } from '../types.js';
import { addArgv, cloudStatusArgv, configArgvs, pullArgv, pushArgv, recordPaths, remoteName, wantedSettings, workspaceStatusArgv, type DvcTarget } from './argv.js';
import { classify } from './classify.js';
import { dvcRepoSync } from './root.js';
import { alreadyConfigured, cloudStatus, ownRemotes, pushPending, verifyReport, workspaceChanges } from './parse.js';

/** The folder holding .dvc/, searched upward from the pair's data. */
function dvcRoot(local: string): string {
  const root = dvcRepoSync(local);
  if (root === undefined) throw new PairSetupError(`${local} is not inside a DVC repository (no .dvc folder above it)`, 'run `dvc init` in the git repository that holds the data');
  return root;
}

function targetOf(pair: ResolvedPair): DvcTarget {
  const root = dvcRoot(pair.local);
  const target = relative(root, pair.local).split('\\').join('/');
  const t = { root, target, dvcFile: `${target}.dvc`, remoteName: remoteName(pair) };
  refuseOwnRemote(pair, t);
  return t;
}

/** An output that names its own DVC remote goes there, not to the pair's: labsync would push nowhere it checks and call it verified. */
function refuseOwnRemote(pair: ResolvedPair, t: DvcTarget): void {
  let text: string;
  try {
    text = readFileSync(join(t.root, t.dvcFile), 'utf8');
  } catch {
    return; // not tracked yet
  }
  const other = ownRemotes(text).filter((r) => r !== t.remoteName);
  if (other.length) {
    throw new PairSetupError(`${t.dvcFile} sends its data to the DVC remote '${other[0] as string}' (its outs: remote:), not to ${pair.remoteLabel}: dvc would push and check there; nothing was run`, `remove the remote: line from ${t.dvcFile}, or sync that remote with its own pair`);
  }
}

function dvc(pair: ResolvedPair, t: DvcTarget, args: string[], label: string, mutates: boolean, notice?: string): Command {
  return { tool: 'dvc', args, cwd: t.root, env: { DVC_NO_ANALYTICS: '1' }, mutates, label, pair: pair.name, ...(notice ? { notice } : {}) };
}

/** Configuring the DVC remote touches .dvc/config.local only: safe, and needed, even in a dry run. Skipped when it already says so. */
function configure(pair: ResolvedPair, t: DvcTarget): Command[] {
  const local = join(t.root, '.dvc', 'config.local');
  if (existsSync(local) && alreadyConfigured(readFileSync(local, 'utf8'), t.remoteName, wantedSettings(pair))) return [];
  return configArgvs(pair, t).map((a) => dvc(pair, t, a, `configure dvc remote for ${pair.name}`, false));
}

function git(pair: ResolvedPair, t: DvcTarget, args: string[], label: string, mutates: boolean, answers?: RegExp): Command {
  return { tool: 'git', args: ['-C', t.root, ...args], cwd: t.root, env: { GIT_TERMINAL_PROMPT: '0' }, mutates, label, pair: pair.name, ...(answers ? { answers } : {}) };
}

/**
 * --commit: stage the .dvc file and the .gitignore dvc writes beside the data (it writes none when the
 * data is already ignored, so that step may find nothing), then commit what is staged. The preview has
 * made sure nothing else was staged, so only these two files go into the commit.
 */
function recordSteps(pair: ResolvedPair, t: DvcTarget, ctx: PlanContext): Command[] {
  if (!ctx.commitMessage) return [];
  const [dvcFile, ignore] = recordPaths(t) as [string, string];
  return [
    git(pair, t, ['add', '--', dvcFile], `stage ${dvcFile}`, true),
    git(pair, t, ['add', '--', ignore], `stage ${ignore} if dvc wrote one`, true, /did not match any files/),
    git(pair, t, ['commit', '--quiet', '--message', ctx.commitMessage], `commit ${dvcFile}`, true),
  ];
}

export const dvcAdapter: Adapter = {
  tool: 'dvc',
  capabilities: {
    copiesFiles: false,
    directions: ['push', 'pull'],
    remoteTypes: ['local', 's3', 'ssh'],
    delete: false,
    backup: false,
    bwlimit: false,
    transfers: false,
    verify: ['checksum'],
  },
  install: { pipx: "pipx install 'dvc[s3]'", url: 'https://dvc.org/doc/install' },
  version: () => ({
    commands: [{ tool: 'dvc', args: ['--version'], cwd: process.cwd(), env: { DVC_NO_ANALYTICS: '1' }, mutates: false, label: 'dvc version' }],
    parse: (outs) => /^(\d+\.\d+\S*)/m.exec(outs[0]?.stdout ?? '')?.[1],
  }),
  transfer: (pair, direction, ctx) => {
    const t = targetOf(pair);
    if (direction === 'pull') return [...configure(pair, t), dvc(pair, t, pullArgv(t), `pull ${pair.name}`, true)];
    const notice = ctx.commitMessage ? undefined : `commit ${recordPaths(t).join(' and ')} (or push with --commit "message") so others can pull this version`;
    return [
      ...configure(pair, t),
      dvc(pair, t, addArgv(t), `dvc add ${pair.name}`, true),
      dvc(pair, t, pushArgv(t), `push ${pair.name}`, true, notice),
      ...recordSteps(pair, t, ctx),
    ];
  },
  preview: (pair, direction, ctx) => {
    const t = targetOf(pair);
    const tracked = existsSync(join(t.root, t.dvcFile));
    const staged = ctx.commitMessage && direction !== 'pull' ? [git(pair, t, ['diff', '--cached', '--name-only'], `staged files in ${t.root}`, false)] : [];
    const stagedBlocker = (text: string | undefined): string[] => {
      const others = (text ?? '').split('\n').filter((l) => l && !recordPaths(t).includes(l));
      return others.length ? [`--commit would also commit what you have staged (${others.slice(0, 3).join(', ')}); commit or unstage it first`] : [];
    };
    if (!tracked) {
      // Nothing recorded yet: a push starts tracking the folder; a pull has nothing to fetch.
      return {
        commands: staged,
        parse: (outs) => direction === 'pull'
          ? { transfer: [], delete: [], blockers: [`${t.dvcFile} does not exist: pull the git repository that records it first (labsync code pull)`] }
          : { transfer: [`${t.target} (not tracked by DVC yet: dvc add)`], delete: [], blockers: stagedBlocker(outs[0]?.stdout) },
      };
    }
    return {
      commands: [...staged, ...configure(pair, t), dvc(pair, t, workspaceStatusArgv(t), `dvc status of ${pair.name}`, false), dvc(pair, t, cloudStatusArgv(t), `dvc status --cloud of ${pair.name}`, false)],
      parse: (outs) => {
        const workspace = workspaceChanges(outs.at(-2)?.stdout ?? '');
        const cloud = cloudStatus(outs.at(-1)?.stdout ?? '');
        if (direction === 'pull') {
          const blockers = workspace.length ? [`local data differs from ${t.dvcFile}: ${workspace.join(', ')}; push or dvc add it first, labsync never overwrites it`] : [];
          return { transfer: cloud.toPull, delete: [], ...(blockers.length ? { blockers } : {}) };
        }
        const blockers = staged.length ? stagedBlocker(outs[0]?.stdout) : [];
        // Any output not clean here (edited, new, or its cache gone): dvc add, then push.
        return { transfer: [...pushPending(outs.at(-2)?.stdout ?? ''), ...cloud.toPush], delete: [], ...(blockers.length ? { blockers } : {}) };
      },
    };
  },
  verify: (pair) => {
    const t = targetOf(pair);
    if (!existsSync(join(t.root, t.dvcFile))) {
      return { commands: [], parse: () => ({ checked: 0, missing: [`${t.target} (not tracked by DVC yet)`], extra: [], changed: [] }) };
    }
    return {
      commands: [...configure(pair, t), dvc(pair, t, workspaceStatusArgv(t), `dvc status of ${pair.name}`, false), dvc(pair, t, cloudStatusArgv(t), `dvc status --cloud of ${pair.name}`, false)],
      parse: (outs) => verifyReport(outs.at(-2)?.stdout ?? '', outs.at(-1)?.stdout ?? '', pair.mode === 'pull' ? 'pull' : 'push'),
    };
  },
  classify,
};
