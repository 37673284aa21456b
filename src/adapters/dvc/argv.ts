// Pure: a data pair kept by DVC → dvc argv. labsync configures the DVC remote itself, in
// .dvc/config.local only (never the committed config), and never writes a credential at all.
import { posix } from 'node:path';
import type { Endpoint, ResolvedPair } from '../../types.js';

export interface DvcTarget {
  /** The folder holding .dvc/: dvc runs there. */
  readonly root: string;
  /** The pair's data, relative to root: "data/raw". */
  readonly target: string;
  readonly dvcFile: string;
  readonly remoteName: string;
}

export function remoteName(pair: ResolvedPair): string {
  return `labsync-${pair.name}`;
}

export function remoteUrl(endpoint: Endpoint): string {
  switch (endpoint.type) {
    case 'local':
      return endpoint.path;
    case 's3':
      return `s3://${posix.join(endpoint.bucket, endpoint.prefix)}`;
    case 'ssh':
      return `ssh://${endpoint.user ? `${endpoint.user}@` : ''}${endpoint.host}${endpoint.port ? `:${endpoint.port}` : ''}${endpoint.path.startsWith('/') ? '' : '/'}${endpoint.path}`;
    default:
      throw new Error(`dvc cannot use a ${endpoint.type} remote here`);
  }
}

/** The settings the pair's DVC remote needs, url first. */
export function wantedSettings(pair: ResolvedPair): [string, string][] {
  const r = pair.remote;
  const out: [string, string][] = [['url', remoteUrl(r)]];
  if (r.type === 's3') {
    if (r.endpoint) out.push(['endpointurl', r.endpoint]);
    if (r.region) out.push(['region', r.region]);
    if (r.profile) out.push(['profile', r.profile]);
  }
  if (r.type === 'ssh' && r.identity) out.push(['keyfile', r.identity]);
  return out;
}

/** `dvc remote add/modify --local`: idempotent, and only ever in .dvc/config.local. */
export function configArgvs(pair: ResolvedPair, t: DvcTarget): string[][] {
  const [[, url], ...rest] = wantedSettings(pair) as [[string, string], ...[string, string][]];
  return [['remote', 'add', '--local', '--force', t.remoteName, url], ...rest.map(([key, value]) => ['remote', 'modify', '--local', t.remoteName, key, value])];
}

export const workspaceStatusArgv = (t: DvcTarget): string[] => ['status', '--json', t.dvcFile];
export const cloudStatusArgv = (t: DvcTarget): string[] => ['status', '--cloud', '--remote', t.remoteName, '--json', t.dvcFile];
// Not --quiet: it silences dvc's error messages too, and those are what the user needs to read.
export const addArgv = (t: DvcTarget): string[] => ['add', t.target];
export const pushArgv = (t: DvcTarget): string[] => ['push', '--remote', t.remoteName, t.dvcFile];
export const pullArgv = (t: DvcTarget): string[] => ['pull', '--remote', t.remoteName, t.dvcFile];

/** What `dvc add` creates and git should record: the .dvc file and the .gitignore beside the data. */
export function recordPaths(t: DvcTarget): string[] {
  return [t.dvcFile, posix.join(posix.dirname(t.target), '.gitignore')];
}
