// The Hugging Face Hub through the real `hf` CLI (issue 14): list → plan → transfer, labsync owning the
// diff. The listing (list-tree.ts) gives sizes, LFS sha256 and git blob ids at the revision, so preview,
// status and check never download; a push is one `hf upload` commit of exactly the planned files and
// deletions; a pull is `hf download --local-dir` of exactly the planned files. A plan of more files than
// hf's patterns scale to calls the same client with the exact paths instead (exact-files.ts).
import { PairSetupError } from '../../errors.js';
import type { ResolvedPair } from '../../types.js';
import { ownExcludes } from '../own-excludes.js';
import type { Adapter, Command, Lister } from '../types.js';
import { createArgv, downloadArgv, hfEnv, hfRemote, listArgv, uploadArgv } from './argv.js';
import { classify } from './classify.js';
import { commitText } from './commit-text.js';
import { byScript, commitCall, downloadCall } from './exact-files.js';
import { LIST_TREE_PY } from './list-tree.js';
import { parseListing, parseUploadCommit, parseVersion } from './parse.js';
import { hfPython } from './python.js';

/** `input`: a Python program for the hf install's Python, and how the command's text shows it. */
function command(pair: ResolvedPair, tool: string, args: string[], label: string, mutates: boolean, answers?: RegExp, input?: { readonly input: string; readonly inputNote: string }): Command {
  return { tool, args, cwd: pair.root, env: hfEnv(pair), mutates, label, pair: pair.name, ...(answers ? { answers } : {}), ...(input ? { input: input.input, inputNote: input.inputNote } : {}) };
}

/**
 * What validate refuses by the pair's mode, refused by the run's direction too (`models pull` of a push
 * pair): a pull from a subfolder would write the repo root's files of the same names (hf download keeps
 * repo paths), a push to a pinned commit id has no branch to land on.
 */
function refuseDirection(pair: ResolvedPair, direction: string): void {
  const r = hfRemote(pair);
  if (direction === 'pull' && r.path) throw new PairSetupError(`a pull from a subfolder of an hf repo (${r.path}) is not supported: it would write the files of the repo's root; nothing was run`, "pull the repo's root into its own folder (a pair of its own)");
  if (direction === 'push' && /^[0-9a-f]{40}$/.test(r.revision)) throw new PairSetupError(`a push needs a branch as the hf remote's revision, not the commit ${r.revision.slice(0, 12)}…; nothing was run`, 'pin commits for pulls only');
}

const at = (pair: ResolvedPair): string => {
  const r = hfRemote(pair);
  return `${r.repoType === 'model' ? '' : `${r.repoType}s/`}${r.repo}${r.path ? `/${r.path}` : ''}@${r.revision}`;
};

function lister(pair: ResolvedPair, direction: 'push' | 'pull' | 'bisync'): Lister {
  const r = hfRemote(pair);
  refuseDirection(pair, direction);
  // A push may start a repo (create: true): its absence is an answer, an empty listing. A branch not
  // made yet is listed as main, which it is made from (list-tree.ts). A pull needs both to exist.
  const absent = direction === 'push'
    ? new RegExp(`"error": "(${r.create ? 'repo_not_found|' : ''}${/^[0-9a-f]{40}$/.test(r.revision) ? '' : 'revision_not_found'})"`)
    : undefined;
  return {
    remote: {
      commands: [command(pair, hfPython(), listArgv(r, pair.stallTimeoutMs, direction === 'push' && !/^[0-9a-f]{40}$/.test(r.revision)), `list hf repo ${at(pair)}`, false, absent, { input: LIST_TREE_PY, inputNote: '(listing script)' })],
      parse: ([o]) => (o && o.exitCode !== 0 ? Object.assign([], {}) : parseListing(o?.stdout ?? '', r.path, [...pair.exclude, ...ownExcludes(pair)])),
    },
    // mtime too: a saved plan goes stale when a planned file is rewritten at its size (sha256s are not in a listing's digest).
    local: { sha256: true, mtime: true },
    modifyWindowMs: 0,
  };
}

export const hf: Adapter = {
  tool: 'hf',
  capabilities: {
    copiesFiles: true,
    directions: ['push', 'pull'],
    remoteTypes: ['hf'],
    delete: true,
    backup: false,
    bwlimit: false,
    transfers: false,
    verify: ['checksum', 'size'],
  },
  install: { pipx: 'pipx install huggingface_hub', brew: 'brew install huggingface-cli', url: 'https://huggingface.co/docs/huggingface_hub/guides/cli' },
  version: () => ({
    commands: [{ tool: 'hf', args: ['version'], cwd: process.cwd(), env: hfEnv({ root: process.cwd() }), mutates: false, label: 'hf version' }],
    parse: (outs) => parseVersion(`${outs[0]?.stdout ?? ''} ${outs[0]?.stderr ?? ''}`),
  }),
  // Everything goes through the plan (files.list + files.transfer); these answer only if asked directly.
  transfer: () => {
    throw new Error('hf pairs move planned files only (files.transfer)');
  },
  preview: (pair, direction) => {
    if (direction === 'bisync') throw new Error('hf has no bisync');
    const l = lister(pair, direction);
    return { commands: l.remote.commands, parse: (outs) => ({ transfer: [], delete: [], destFiles: l.remote.parse(outs).length }) };
  },
  files: {
    list: lister,
    transfer: (pair, direction, plan, ctx, how) => {
      const r = hfRemote(pair);
      if (direction === 'pull') {
        const paths = [...plan.send, ...plan.replace].map((f) => f.path);
        const pinned = typeof how?.at === 'string' ? how.at : undefined;
        const label = `pull ${paths.length} files from hf repo ${at(pair)}`;
        const call = byScript(paths.length) ? downloadCall(pair, paths, pinned) : undefined;
        return {
          send: !paths.length ? [] : call ? [command(pair, hfPython(), call.args, label, true, undefined, call)] : [command(pair, 'hf', downloadArgv(pair, paths, pinned), label, true)],
          delete: [],
          deleteLocal: plan.delete.map((f) => f.path),
        };
      }
      // One commit uploads and deletes: nothing in `delete`.
      const text = commitText(pair, ctx.stamp);
      const label = `push ${pair.name} to hf repo ${at(pair)}`;
      // The listed commit known, the push goes through the commit script, which names it as the parent
      // (`hf upload` cannot): a branch moved since is refused, not written over.
      const parent = typeof how?.at === 'string' && /^[0-9a-f]{40}$/.test(how.at) ? how.at : undefined;
      const call = parent || byScript(plan.send.length + plan.replace.length + plan.delete.length) ? commitCall(pair, plan, text, parent) : undefined;
      return {
        send: [
          ...(r.create ? [command(pair, 'hf', createArgv(r), `create hf repo ${r.repo} (private) unless it exists`, true)] : []),
          call ? command(pair, hfPython(), call.args, label, true, undefined, call) : command(pair, 'hf', uploadArgv(pair, plan, text), label, true),
        ],
        delete: [],
      };
    },
  },
  madeRevision: (outputs) => parseUploadCommit(outputs.at(-1)?.stdout ?? ''),
  classify,
};
