import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PairSetupError } from '../../errors.js';
import type { Direction, ResolvedPair } from '../../types.js';
import type { Adapter, Command, PlanContext } from '../types.js';
import {
  aheadBehindArgv, commitArgv, fetchArgv, gitEnv, userSshCommand, lfsPullArgv, lfsPushArgv, localHeadArgv, mergeArgv, pushArgv, remoteHeadArgv, statusArgv, target,
} from './argv.js';
import { classify } from './classify.js';
import { aheadBehind, changesFor, dirtyPaths, NEW_BRANCH, verifyReport } from './parse.js';
import { currentBranch } from './head.js';

/** A code pair works in a clone: a missing folder is never made here (git would then fall back to any repository above it). */
function cloneOf(pair: ResolvedPair): void {
  if (existsSync(pair.local)) return;
  const url = pair.remote.type === 'git' ? pair.remote.url : pair.remoteLabel;
  const from = /[/:]/.test(url) ? url : `<the URL of ${url}>`;
  throw new PairSetupError(`${pair.local} does not exist; a code pair works in a clone of its repository`, `clone the repository there first: git clone ${from} ${pair.local}`);
}

/** `moves`: for a push, pull or sync (and their previews); a check compares HEAD with the branch as before. */
function branchOf(pair: ResolvedPair, moves = true): string {
  cloneOf(pair);
  const here = currentBranch(pair.local);
  // HEAD is pushed to (and the checked-out branch fast-forwarded from) the pair's branch: another
  // branch checked out would land its commits there (a feature branch on main). A detached HEAD (a
  // CI checkout) is what branch: is set for.
  if (moves && pair.branch && here && here !== pair.branch) {
    throw new PairSetupError(`${pair.local} has the branch ${here} checked out, but the pair's branch is ${pair.branch}: labsync would move ${here}'s commits to ${pair.branch} there (or ${pair.branch}'s into ${here}); nothing was run`, `check out ${pair.branch} there, or change branch: on the pair`);
  }
  const b = pair.branch ?? here;
  if (!b) throw new PairSetupError(`${pair.local}: HEAD is detached or this is not a git repository`, 'check out a branch, or set branch: on the pair');
  return b;
}

/** core.sshCommand as git reads it in this clone (its config, the user's, the system's), asked once per folder. */
const sshConfigs = new Map<string, string | undefined>();
function sshConfigured(local: string): string | undefined {
  if (process.env.GIT_SSH_COMMAND) return undefined;
  if (!sshConfigs.has(local)) {
    let got: string | undefined;
    try {
      got = execFileSync('git', ['-C', local, 'config', '--get', 'core.sshCommand'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim() || undefined;
    } catch {
      got = undefined; // not set (exit 1), or no repository: ssh
    }
    sshConfigs.set(local, got);
  }
  return sshConfigs.get(local);
}

function git(pair: ResolvedPair, args: string[], label: string, mutates: boolean, answers?: RegExp): Command {
  return { tool: 'git', args: ['-C', pair.local, ...args], cwd: pair.root, env: gitEnv(userSshCommand(process.env, sshConfigured(pair.local)), pair.stallTimeoutMs), mutates, label, pair: pair.name, ...(answers ? { answers } : {}) };
}

/** A branch not on the remote yet is an answer for the preview: the first push creates it. */
const NO_REMOTE_BRANCH = /couldn't find remote ref/i;
const NO_FETCHED_REF = /unknown revision|bad revision|ambiguous argument/i;

function commitSteps(pair: ResolvedPair, ctx: PlanContext): Command[] {
  return ctx.commitMessage ? commitArgv(ctx.commitMessage).map((a) => git(pair, a, `commit ${pair.name}`, true)) : [];
}

function pushSteps(pair: ResolvedPair): Command[] {
  const t = target(pair, branchOf(pair));
  return [...(pair.lfs ? [git(pair, lfsPushArgv(t), `lfs push ${pair.name}`, true)] : []), git(pair, pushArgv(t), `push ${pair.name}`, true)];
}

function pullSteps(pair: ResolvedPair): Command[] {
  const t = target(pair, branchOf(pair));
  return [
    git(pair, fetchArgv(t), `fetch for ${pair.name}`, true),
    git(pair, mergeArgv(t), `fast-forward ${pair.name}`, true),
    ...(pair.lfs ? [git(pair, lfsPullArgv(t), `lfs pull ${pair.name}`, true)] : []),
  ];
}

export const gitAdapter: Adapter = {
  tool: 'git',
  capabilities: {
    copiesFiles: false,
    // bisync for git: pull (fast-forward only), then push.
    directions: ['push', 'pull', 'bisync'],
    remoteTypes: ['git'],
    delete: false,
    backup: false,
    bwlimit: false,
    transfers: false,
    verify: ['checksum'],
  },
  install: { apt: 'apt-get install -y git git-lfs', brew: 'brew install git git-lfs', url: 'https://git-scm.com/' },
  version: () => ({
    commands: [{ tool: 'git', args: ['--version'], cwd: process.cwd(), mutates: false, label: 'git version' }],
    parse: (outs) => /git version (\S+)/.exec(outs[0]?.stdout ?? '')?.[1],
  }),
  transfer: (pair, direction: Direction, ctx, changes) => {
    if (direction === 'push') return [...commitSteps(pair, ctx), ...pushSteps(pair)];
    if (direction === 'pull') return pullSteps(pair);
    // sync: commit if asked, pull (fast-forward only) unless the remote has no branch yet, then push.
    const fresh = changes?.transfer.includes(NEW_BRANCH) ?? false;
    return [...commitSteps(pair, ctx), ...(fresh ? [] : pullSteps(pair)), ...pushSteps(pair)];
  },
  preview: (pair, direction, ctx) => {
    const t = target(pair, branchOf(pair));
    return {
      commands: [
        git(pair, statusArgv(), `status of ${pair.name}`, false),
        git(pair, remoteHeadArgv(t), `remote head of ${pair.name}`, false),
        // Fetching into labsync's own ref changes no branch and no working file: safe in a dry run.
        git(pair, fetchArgv(t), `fetch for ${pair.name}`, false, NO_REMOTE_BRANCH),
        git(pair, aheadBehindArgv(t), `compare with ${pair.remoteLabel}`, false, NO_FETCHED_REF),
      ],
      parse: ([status, head, _fetch, log]) => {
        const dirty = dirtyPaths(status?.stdout ?? '');
        const { ahead, behind } = aheadBehind(log?.exitCode === 0 ? log.stdout : '');
        const look = { dirty, ahead, behind, remoteExists: Boolean(head?.stdout.trim()) };
        const changes = changesFor(direction, look);
        const blockers: string[] = [];
        if (dirty.length && direction !== 'pull' && !ctx.commitMessage) {
          blockers.push(`uncommitted changes (${dirty.slice(0, 3).join(', ')}${dirty.length > 3 ? ', …' : ''}); commit them or run with --commit "message"`);
        }
        if (direction === 'pull' && !look.remoteExists) blockers.push(`the remote has no branch ${t.branch} yet: nothing to pull`);
        if (ahead.length && behind.length && look.remoteExists) {
          blockers.push(`local and remote history have diverged (${ahead.length} local, ${behind.length} remote commits); merge or rebase by hand (git pull --rebase), then push`);
        }
        return { ...changes, ...(blockers.length ? { blockers } : {}), uncommitted: dirty };
      },
    };
  },
  verify: (pair) => {
    const t = target(pair, branchOf(pair, false));
    return {
      commands: [git(pair, remoteHeadArgv(t), `remote head of ${pair.name}`, false), git(pair, localHeadArgv(), `head of ${pair.name}`, false), git(pair, statusArgv(), `status of ${pair.name}`, false)],
      parse: ([ls, rev, st]) => verifyReport(ls?.stdout ?? '', rev?.stdout ?? '', st?.stdout ?? '', t.branch),
    };
  },
  classify,
};
