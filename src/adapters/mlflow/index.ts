// MLflow model registry pairs (issue 14): a push registers a new version when the folder differs from
// the newest; a pull writes the files of a version (alias, number or newest), each checked against the
// version's SHA256SUMS. labsync lists both sides and plans (plan-pair.ts), so --dry-run, status, the
// delete guard and verify are the engine's, as for aws and rclone.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { VERSION } from '../../version.js';
import { compareEntries } from '../../verify/compare.js';
import { walkTree } from '../../verify/stat-tree.js';
import { ownExcludes } from '../own-excludes.js';
import { headCommit } from '../git/head.js';
import type { Adapter } from '../types.js';
import { isEmptyPlan } from '../../plan/compute.js';
import { classify, parseProgress } from './classify.js';
import { client, describeVersion, endpointOf, pickOf } from './commands.js';
import { parseListed, parseRecord } from './parse.js';

const excludesOf = (pair: Parameters<Adapter['transfer']>[0]): string[] => [...pair.exclude, ...ownExcludes(pair)];

/** `pushId`: the run's stamp, the same in every attempt of this command (a retry resumes, mlflow-client/transfer.ts). */
function pushCommand(pair: Parameters<Adapter['transfer']>[0], pushId: string) {
  const r = endpointOf(pair);
  const commit = headCommit(pair.local);
  const tags = { 'labsync.pair': pair.name, 'labsync.host': hostname(), ...(commit ? { 'labsync.commit': commit } : {}) };
  return client(pair, 'push', { dir: pair.local, experiment: r.experiment, excludes: excludesOf(pair), tags, pushId: `${hostname()} ${pair.name} ${pushId}`, ...(pair.alias ? { alias: pair.alias } : {}) },
    `register ${pair.local} as a new version of ${r.model}${pair.alias ? ` @${pair.alias}` : ''}`, true);
}

function aliasCommand(pair: Parameters<Adapter['transfer']>[0], alias: string, version: number) {
  return client(pair, 'alias', { alias, version }, `point @${alias} of ${endpointOf(pair).model} at version ${version}, which holds ${pair.local}`, true);
}

/** `at`: the version the plan was listed from (an alias may move meanwhile); the alias stays named for the record. */
function pullCommand(pair: Parameters<Adapter['transfer']>[0], paths: readonly string[], at?: number) {
  const r = endpointOf(pair);
  return client(pair, 'pull', { dir: pair.local, ...pickOf(pair, 'pull'), ...(at !== undefined ? { version: at } : {}) }, `pull ${describeVersion(pair, 'pull')} of ${r.model} into ${pair.local}`, true, paths.map((p) => `${p}\0`).join(''));
}

export const mlflow: Adapter = {
  tool: 'mlflow',
  capabilities: {
    // false: labsync makes the folder for a pull only once the version is found (nothing written for a missing one).
    copiesFiles: false,
    directions: ['push', 'pull'],
    remoteTypes: ['mlflow'],
    delete: true,
    backup: false,
    bwlimit: false,
    transfers: false,
    verify: ['checksum', 'size'],
  },
  install: { url: 'https://mlflow.org/docs/latest/ml/tracking/server/ (labsync talks to the server over REST: no client to install)' },
  // Nothing to ask a program: the client is labsync's own.
  version: () => ({ commands: [], parse: () => `labsync ${VERSION} REST client` }),
  files: {
    list: (pair, direction) => ({
      remote: {
        commands: [client(pair, 'list', pickOf(pair, direction), `list ${describeVersion(pair, direction)} of ${endpointOf(pair).model}`, false)],
        parse: (outs) => {
          const listed = parseListed(outs[0]?.stdout ?? '');
          // The alias is not set at all (its call failed after the version was made, or it was added to the
          // manifest since): a push sets it (at the newest version when that holds the folder). One set by hand
          // elsewhere is left there (only a push that makes a version moves it).
          const unset = direction === 'push' && listed.aliasAt === null && listed.version !== null;
          return Object.assign([...listed.files], listed.version === null ? {} : { version: String(listed.version) }, unset ? { unset: `the alias @${pair.alias ?? ''} is not set`, pushSets: true } : {});
        },
      },
      // mtime too: a saved plan goes stale when a planned file is rewritten at its size (sha256s are not in a listing's digest).
      local: { sha256: true, mtime: true },
      modifyWindowMs: 0,
    }),
    transfer: (pair, direction, plan, ctx, how) => {
      // A version is the whole folder: any change registers all of it again (a new version). Nothing
      // changed but the alias unset: `at` is the listed version, which holds the folder; the alias goes there.
      if (direction === 'push' && pair.alias && typeof how?.at === 'number' && isEmptyPlan(plan)) return { send: [aliasCommand(pair, pair.alias, how.at)], delete: [] };
      if (direction === 'push') return { send: [pushCommand(pair, ctx.stamp)], delete: [] };
      return { send: [pullCommand(pair, [...plan.send, ...plan.replace].map((f) => f.path), typeof how?.at === 'number' ? how.at : undefined)], delete: [], deleteLocal: plan.delete.map((f) => f.path) };
    },
  },
  // Without labsync's own plan (LABSYNC_PLAN=0): the whole folder or the whole version.
  preview: (pair, direction) => ({
    commands: [client(pair, 'list', pickOf(pair, direction), `list ${describeVersion(pair, direction)} of ${endpointOf(pair).model}`, false)],
    parse: (outs) => {
      const listed = parseListed(outs[0]?.stdout ?? '');
      return direction === 'push' ? { transfer: walkTree(pair.local, excludesOf(pair)).map((f) => f.path), delete: [] } : { transfer: listed.files.map((f) => f.path), delete: [] };
    },
  }),
  transfer: (pair, direction, ctx, changes) => (direction === 'push' ? [pushCommand(pair, ctx.stamp)] : [pullCommand(pair, changes?.transfer ?? [])]),
  // check --full: every file of the version downloaded and hashed, against every local byte read.
  verify: (pair, mode) => ({
    commands: [client(pair, 'full', pickOf(pair, pair.mode), `download and hash ${describeVersion(pair, pair.mode)} of ${endpointOf(pair).model}`, false)],
    parse: (outs) => {
      const remote = parseListed(outs[0]?.stdout ?? '').files;
      const local = walkTree(pair.local, excludesOf(pair)).map((f) => ({ path: f.path, size: f.size, sha256: createHash('sha256').update(readFileSync(join(pair.local, f.path))).digest('hex') }));
      return compareEntries(local, remote, mode);
    },
  }),
  record: (outputs) => parseRecord(outputs.at(-1)?.stdout ?? ''),
  classify,
  parseProgress,
};
