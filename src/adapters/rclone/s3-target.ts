// Pure: whether labsync can list an rclone pair's S3 remote itself (exec/s3-list.ts) and reach exactly
// what rclone would: the same bucket and prefix, with the keys rclone would sign with. Anything rclone
// would do differently for a listing (settings labsync does not read, an encrypted config, SSE whose
// ETags are no MD5s, a provider chain beyond keys) leaves the listing to `rclone lsjson`, as before.
import { join, posix } from 'node:path';
import type { Endpoint } from '../../types.js';
import { directTarget, type S3Target } from '../../exec/s3-direct.js';
import { S3_REMOTE } from './argv.js';

type Env = Readonly<Record<string, string | undefined>>;
type S3 = Extract<Endpoint, { type: 's3' }>;
export type Read = (path: string) => string;

/**
 * Options that change nothing about a listing (they shape uploads, or are what labsync reads here);
 * any other key in the remote's section (sse_*, v2_auth, list_version, versions, …) falls back.
 */
const HARMLESS = new Set([
  'type', 'provider', 'env_auth', 'access_key_id', 'secret_access_key', 'session_token', 'region', 'endpoint',
  'force_path_style', 'no_check_bucket', 'location_constraint', 'acl', 'bucket_acl', 'storage_class',
  'upload_cutoff', 'chunk_size', 'upload_concurrency', 'disable_checksum', 'no_head', 'description',
]);

/** One section of an rclone config file (INI), keys lowercased; undefined when the file has none by that name. */
export function configSection(text: string, name: string): Record<string, string> | undefined {
  let inside = false;
  let found: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.*)\]$/.exec(line);
    if (head) {
      inside = head[1] === name;
      if (inside) found ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (inside && found && eq > 0) found[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return found;
}

/** RCLONE_CONFIG_<NAME>_<KEY> variables of the environment, as lowercased keys. */
function envSection(env: Env, name: string): Record<string, string> {
  const head = `RCLONE_CONFIG_${name.toUpperCase()}_`;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith(head) && v !== undefined) out[k.slice(head.length).toLowerCase()] = v;
  return out;
}

const truthy = (v: string | undefined): boolean => /^(true|1|yes)$/i.test(v ?? '');

function awsConfigText(env: Env, read: Read): string {
  const file = env.AWS_CONFIG_FILE ?? (env.HOME ? join(env.HOME, '.aws', 'config') : undefined);
  return file ? read(file) : '';
}

/**
 * The backend of a `type: rclone` remote (s3, sftp, …, lowercased), found where rclone finds it: the
 * config file, then RCLONE_CONFIG_<NAME>_TYPE, then the manifest's `config:`. '' when none says.
 */
export function backendType(remote: Endpoint, env: Env, configFile: string, read: Read): string {
  if (remote.type !== 'rclone') return remote.type;
  const text = configFile === '/dev/null' || remote.config?.type ? '' : read(configFile);
  const o = { ...configSection(text, remote.remote), ...envSection(env, remote.remote), ...lower(remote.config ?? {}) };
  return String(o.type ?? '').toLowerCase();
}

/**
 * The target of labsync's own listing for an rclone pair, or why there is none. `env` is labsync's
 * environment, `configFile` the rclone config path labsync passes (`--config`), `read` a file's text
 * ('' when there is none). A manifest `type: s3` remote is the env-defined remote argv.ts builds
 * (env_auth: the keys aws-cli would take, so aws-cli's rules apply); a `type: rclone` remote is
 * read from the config file, then RCLONE_CONFIG_<NAME>_*, then the manifest's `config:`, in
 * rclone's own order of precedence.
 */
export function rcloneS3Target(remote: Endpoint, env: Env, configFile: string, read: Read): S3Target | { reason: string } {
  if (Object.keys(env).some((k) => k.startsWith('RCLONE_S3_'))) return { reason: 'RCLONE_S3_* settings in the environment' };
  const text = configFile === '/dev/null' ? '' : read(configFile);
  if (/^RCLONE_ENCRYPT_V0:/m.test(text)) return { reason: 'an encrypted rclone config' };
  if (remote.type === 's3') {
    if (configSection(text, S3_REMOTE) || Object.keys(envSection(env, S3_REMOTE)).length) return { reason: `a remote named ${S3_REMOTE} outside the manifest` };
    // rclone signs for the remote's region, else us-east-1 (it reads no AWS_REGION).
    return directTarget({ ...remote, region: remote.region ?? 'us-east-1' }, { ...env, AWS_SECURITY_TOKEN: undefined }, awsConfigText(env, read));
  }
  if (remote.type !== 'rclone') return { reason: `a ${remote.type} remote` };
  const o = { ...configSection(text, remote.remote), ...envSection(env, remote.remote), ...lower(remote.config ?? {}) };
  if ((o.type ?? '').toLowerCase() !== 's3') return { reason: 'not an S3 backend' };
  const odd = Object.keys(o).filter((k) => !HARMLESS.has(k));
  if (odd.length) return { reason: `settings labsync does not read (${odd.sort().join(', ')})` };
  const [bucket = '', ...rest] = remote.path.replace(/^\/+|\/+$/g, '').split('/');
  if (!bucket) return { reason: 'no bucket in the path' };
  const s3: S3 = {
    type: 's3', bucket, prefix: posix.normalize(rest.join('/') || '.').replace(/^\.$/, ''),
    region: o.region || 'us-east-1', ...(o.endpoint ? { endpoint: o.endpoint } : {}),
  };
  const keys = o.access_key_id && o.secret_access_key;
  if (keys) {
    // Static keys come first in rclone's chain; nothing of aws-cli's files applies.
    return directTarget(s3, { ...env, AWS_ACCESS_KEY_ID: o.access_key_id, AWS_SECRET_ACCESS_KEY: o.secret_access_key, AWS_SESSION_TOKEN: o.session_token, AWS_SECURITY_TOKEN: undefined, AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_S3: undefined }, '');
  }
  if (o.access_key_id || o.secret_access_key) return { reason: 'only one of access_key_id and secret_access_key' };
  if (!truthy(o.env_auth)) return { reason: 'no keys (anonymous access)' };
  return directTarget(s3, { ...env, AWS_SECURITY_TOKEN: undefined }, awsConfigText(env, read));
}

const lower = (r: Readonly<Record<string, string>>): Record<string, string> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v]));
