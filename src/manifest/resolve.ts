// Meaning: defaults applied, remotes resolved to endpoints, paths made absolute.
import { homedir } from 'node:os';
import { isAbsolute, join, posix, resolve as resolvePath } from 'node:path';
import type { Category, CompareKey, Endpoint, MaxDelete, RemoteType, ResolvedPair, SourceRef, ToolName } from '../types.js';
import { parseDuration } from '../util/duration.js';
import type { RawDefaults, RawPair, RawRemote } from './schema.js';
import { whyNoFullCheck } from './full-check-kinds.js';

export const DEFAULTS = {
  retries: 3,
  retryDelay: '2s',
  timeout: '2h',
  stallTimeout: '2m',
  verify: 'checksum',
  maxDelete: '50%',
  concurrency: 2,
} as const;

/** Which tool a pair uses when it does not say (SPEC §3). */
export const DEFAULT_TOOL: Record<RemoteType, ToolName> = { s3: 'aws', ssh: 'rsync', rclone: 'rclone', local: 'rsync', git: 'git', mlflow: 'mlflow', hf: 'hf' };

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** The experiment an mlflow remote logs its runs in when it names none. */
export const MLFLOW_EXPERIMENT = 'labsync';

function fromRemote(remote: RawRemote, sub: string, root: string): Endpoint | string {
  switch (remote.type) {
    case 'mlflow':
      // A registered model has no folders to point into: `reg:sub` would silently mean `reg`.
      if (sub) return `an mlflow remote takes no sub-path (':${sub}'): one remote is one registered model`;
      return { type: 'mlflow', trackingUri: remote.tracking_uri.replace(/\/+$/, ''), model: remote.model, experiment: remote.experiment ?? MLFLOW_EXPERIMENT };
    case 'local':
      // Under the remote's folder, as on every other remote type (`nas:/processed` had meant /processed).
      return { type: 'local', path: resolvePath(resolvePath(root, expandHome(remote.path)), sub.replace(/^[\\/]+/, '')) };
    case 'ssh':
      return {
        type: 'ssh', host: remote.host, path: sub ? posix.join(remote.path, sub) : remote.path,
        ...(remote.user ? { user: remote.user } : {}),
        ...(remote.port ? { port: remote.port } : {}),
        ...(remote.identity ? { identity: resolvePath(root, expandHome(remote.identity)) } : {}),
        ...(remote.known_hosts ? { knownHosts: resolvePath(root, expandHome(remote.known_hosts)) } : {}),
        ...(remote.ssh_config ? { sshConfig: resolvePath(root, expandHome(remote.ssh_config)) } : {}),
        sshOptions: remote.ssh_options ?? [],
        ...(remote.control_persist === undefined ? {} : { controlPersist: remote.control_persist === 0 ? 0 : Math.ceil((parseDuration(remote.control_persist) as number) / 1000) }),
      };
    case 's3':
      return {
        type: 's3', bucket: remote.bucket, prefix: posix.join(remote.prefix ?? '', sub).replace(/^\/+|\/+$/g, '').replace(/^\.$/, ''),
        ...(remote.region ? { region: remote.region } : {}),
        ...(remote.profile ? { profile: remote.profile } : {}),
        ...(remote.endpoint ? { endpoint: remote.endpoint } : {}),
        ...(remote.instance_credentials ? { instanceCredentials: true } : {}),
        ...(remote.part_size ? { partSize: parseSize(remote.part_size) } : {}),
        ...(remote.etag ? { etag: remote.etag } : {}),
      };
    case 'rclone':
      return { type: 'rclone', remote: remote.remote, path: posix.join(remote.path ?? '', sub).replace(/^\.$/, ''), ...(remote.config ? { config: remote.config } : {}) };
    case 'hf':
      return {
        type: 'hf', repo: remote.repo, repoType: remote.repo_type ?? 'model', revision: remote.revision ?? 'main',
        path: posix.normalize(`/${sub}`).replace(/^\/+|\/+$/g, ''), create: remote.create ?? false,
      };
  }
}

function fromUrl(text: string): Endpoint | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `'${text}' is not a valid URL`;
  }
  const path = decodeURIComponent(url.pathname);
  switch (url.protocol) {
    case 'file:':
      // `file://backup/dir` reads `backup` as a host and would have synced /dir; `file://` would have been /.
      if (url.hostname && url.hostname !== 'localhost') return `'${text}' names the host '${url.hostname}': a file URL is file:///absolute/path (three slashes)`;
      if (path === '' || path === '/') return `'${text}' names no folder (the whole file system): give file:///absolute/path`;
      return { type: 'local', path };
    case 'ssh:':
      if (!url.hostname) return `'${text}' has no host`;
      return {
        type: 'ssh', host: url.hostname, path: path || '.', sshOptions: [],
        ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
        ...(url.port ? { port: Number(url.port) } : {}),
      };
    case 's3:':
      if (!url.hostname) return `'${text}' has no bucket`;
      return { type: 's3', bucket: url.hostname, prefix: path.replace(/^\/+|\/+$/g, '') };
    default:
      return `unsupported URL scheme '${url.protocol}' (use s3://, ssh://, file:// or a remote from remotes:)`;
  }
}

/** `NAME:SUBPATH`, an inline URL, or (for git) a git remote name or URL. A string is a problem. */
export function resolveRemote(text: string, remotes: Readonly<Record<string, RawRemote>>, root: string, tool?: ToolName): Endpoint | string {
  if (tool === 'git') return { type: 'git', url: text };
  // A URL first: a remote named `s3` (or `ssh`, `file`) must not take `s3://other-bucket/raw` as its sub-path.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return fromUrl(text);
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon) : text;
  const remote = remotes[name];
  const sub = colon > 0 ? text.slice(colon + 1) : '';
  // A sub-path stays under its remote: `nas:../../etc` would have been a mirror's destination outside it.
  if (remote && sub.split(/[/\\]/).includes('..')) return `'${text}': a sub-path may not hold '..' (it would leave the remote '${name}')`;
  if (remote) return fromRemote(remote, sub, root);
  const known = Object.keys(remotes);
  return colon > 0
    ? `unknown remote '${name}'${known.length ? ` (defined: ${known.join(', ')})` : ' (no remotes: are defined)'}`
    : `'${text}' is neither NAME:SUBPATH for a remote under remotes: nor a URL (s3://, ssh://, file://)`;
}

/** "8MiB", "16M", "1048576" → bytes (binary units: that is what aws-cli's chunk sizes mean). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)/i.exec(text);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m?.[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m?.[1] ?? 0) * unit);
}

export function parseMaxDelete(value: string | number): MaxDelete {
  if (typeof value === 'number') return { count: value };
  return value.endsWith('%') ? { percent: Number(value.slice(0, -1)) } : { count: Number(value) };
}

export function toolFor(raw: RawPair, category: Category, endpoint: Endpoint | string): ToolName | undefined {
  if (raw.tool) return raw.tool;
  if (category === 'code') return 'git';
  return typeof endpoint === 'string' ? undefined : DEFAULT_TOOL[endpoint.type];
}

export function resolvePair(
  raw: RawPair, category: Category, defaults: RawDefaults, remotes: Readonly<Record<string, RawRemote>>, root: string, source: SourceRef,
): ResolvedPair {
  const probe = resolveRemote(raw.remote, remotes, root, raw.tool ?? (category === 'code' ? 'git' : undefined));
  const tool = toolFor(raw, category, probe) as ToolName;
  const remote = resolveRemote(raw.remote, remotes, root, tool) as Endpoint;
  const pick = <K extends keyof RawDefaults & keyof RawPair>(key: K): RawPair[K] | RawDefaults[K] => raw[key] ?? defaults[key];
  const hooks = pick('hooks') ?? {};
  const mlflowPush = tool === 'mlflow' && (raw.mode ?? 'push') === 'push';
  return {
    name: raw.name,
    category,
    tool,
    root,
    local: isAbsolute(raw.local) ? raw.local : resolvePath(root, expandHome(raw.local)),
    remote,
    remoteLabel: raw.remote,
    // A git pair's sync is pull (fast-forward only), then push.
    mode: raw.mode ?? (tool === 'git' ? 'bisync' : 'push'),
    // A model version is a snapshot of the whole folder: a file removed here is absent from the next one.
    // Not a pull's default: it would delete files of the user's that the version does not hold.
    delete: pick('delete') ?? mlflowPush,
    ...(tool === 'mlflow' && pick('delete') === undefined ? { deleteByDefault: true } : {}),
    maxDelete: parseMaxDelete(pick('max_delete') ?? DEFAULTS.maxDelete),
    backup: raw.snapshots ? false : (pick('backup') ?? false),
    ...(raw.bwlimit !== undefined || defaults.bwlimit !== undefined ? { bwlimit: String(pick('bwlimit')) } : {}),
    // From defaults, compress applies only where it can (rsync over ssh); rules refuse it elsewhere on a pair.
    ...(raw.compress ?? (defaults.compress && tool === 'rsync' && remote.type === 'ssh') ? { compress: true } : {}),
    ...(raw.snapshots ? { snapshots: { keep: raw.snapshots.keep } } : {}),
    ...(raw.shards !== undefined ? { shards: raw.shards } : {}),
    ...(pick('transfers') !== undefined ? { transfers: pick('transfers') as number } : {}),
    // The marker is drain's own: never sent, deleted as extra or counted as drift by the other runs.
    exclude: [...(pick('exclude') ?? []), ...(raw.drain_marker ? [`/${raw.drain_marker}`] : [])],
    retries: pick('retries') ?? DEFAULTS.retries,
    retryDelayMs: parseDuration(pick('retry_delay') ?? DEFAULTS.retryDelay) as number,
    timeoutMs: parseDuration(pick('timeout') ?? DEFAULTS.timeout) as number,
    stallTimeoutMs: parseDuration(pick('stall_timeout') ?? DEFAULTS.stallTimeout) as number,
    verify: pick('verify') ?? DEFAULTS.verify,
    // From defaults, full_check applies only where it means something; set on a git or dvc pair, validate says so.
    ...(raw.full_check ?? (defaults.full_check && !whyNoFullCheck(tool) ? defaults.full_check : undefined) ? { fullCheckMs: parseDuration(pick('full_check') as string) as number } : {}),
    ...(raw.schedule ? { schedule: raw.schedule } : {}),
    tags: raw.tags ?? [],
    ...(raw.drain_marker ? { drainMarker: raw.drain_marker } : {}),
    hooks: {
      ...(hooks.before ? { before: hooks.before } : {}),
      ...(hooks.after ? { after: hooks.after } : {}),
      ...(hooks.on_failure ? { onFailure: hooks.on_failure } : {}),
    },
    notify: pick('notify') ?? {},
    ...(raw.branch ? { branch: raw.branch } : {}),
    lfs: raw.lfs ?? false,
    ...(raw.alias ? { alias: raw.alias } : {}),
    ...(raw.version ? { version: raw.version } : {}),
    ...(raw.conflict ? { conflict: raw.conflict } : {}),
    ...remoteLockOf(raw, tool, remote, pick('delete') ?? mlflowPush),
    ...(raw.compare ? { compare: [...new Set(raw.compare.split(','))] as CompareKey[] } : {}),
    source,
  };
}

/** Tools whose pairs may lock at the remote: they write files beside the lock, which they exclude. */
export const REMOTE_LOCK_TOOLS: readonly ToolName[] = ['rsync', 'rclone', 'aws'];

function remoteLockOf(raw: RawPair, tool: ToolName, remote: Endpoint, mirror: boolean): { remoteLock?: 'asked' | 'default' } {
  if (raw.remote_lock === false || !REMOTE_LOCK_TOOLS.includes(tool) || !['s3', 'ssh', 'local', 'rclone'].includes(remote.type)) return {};
  if (raw.remote_lock) return { remoteLock: 'asked' };
  // Snapshots: every run writes the one unfinished folder and renames it when done, so a second
  // machine's run would write into the snapshot the first just verified and published.
  return mirror || raw.snapshots || (raw.mode ?? 'push') === 'bisync' ? { remoteLock: 'default' } : {};
}
