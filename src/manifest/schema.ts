// The manifest's shape (SPEC §3). Strict everywhere: an unknown key is an error, never ignored.
// No transforms here, so `labsync schema` can emit it as JSON Schema; meaning is given in resolve.ts.
import { z } from 'zod';
import { CATEGORIES, COMPARE_KEYS, CONFLICT_POLICIES, MODES, TOOLS } from '../types.js';
import { lazy } from '../util/lazy.js';

const KEEP_ERROR = 'must be a duration like 60s or 10m, or 0 (no kept connection)';

/** Marks the message of an unknown-key issue so issues.ts can suggest from the known keys. */
export const KNOWN_KEYS_TAG = 'known-keys:';

function strict<T extends z.ZodRawShape>(shape: T) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `${KNOWN_KEYS_TAG}${Object.keys(shape).join(',')}` : undefined),
  });
}

// Names are command-line arguments (`labsync sync NAME`) and file names: not only dots, no leading dash.
export const NAME_PATTERN = /^(?!\.+$)(?!-)[A-Za-z0-9._-]+$/;
export const REMOTE_TYPES = ['s3', 'ssh', 'rclone', 'local', 'mlflow', 'hf'] as const;

/**
 * The schemas, built on first use (util/lazy.ts): a run whose manifest comes from the resolved-manifest
 * cache (cache.ts) builds none, and building them was most of zod's cost to a run.
 */
export const schemas = lazy(() => {
  const name = z.string().regex(NAME_PATTERN, { error: 'must match [A-Za-z0-9._-]+, not start with "-" (it would read as an option) and not be only dots' })
    // It names files (its lock, receipts `<stamp>-<pair>.shard-K-of-N.json`): past ~200 bytes a run
    // failed with ENAMETOOLONG after validate had passed (review 41).
    .max(100, { error: 'must be at most 100 characters (it names the pair\'s lock and receipt files)' })
    // A shard's receipt is named <stamp>-<pair>.shard-K-of-N.json: such a pair's own receipts would read as another's.
    .refine((n) => !/\.shard-\d+-of-\d+$/.test(n), { error: 'must not end in .shard-K-of-N (what labsync names a shard\'s receipt with)' });
  const duration = z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, { error: 'must be a duration like 30s, 10m or 2h' });
  const argv = z.array(z.string().min(1)).min(1, { error: 'must be an argv array like ["python", "export.py"]' });
  // Each branch says it itself: a string failing the pattern had shown zod's "must match pattern /…/" (review 41).
  const maxDeleteError = 'must be a count (10) or a percentage ("10%")';
  const maxDelete = z.union([z.int().min(0), z.string().regex(/^(\d+(\.\d+)?%|\d+)$/, { error: maxDeleteError })], { error: maxDeleteError });
  // rsync and rclone read a bare number as KiB/s (review 41: the message had said bytes).
  const bwlimitError = 'must be a rate per second like 10M, 500K or 2G (a plain number is KiB/s, as rsync and rclone read it)';
  const bwlimit = z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?[KMGkmg]?$/, { error: bwlimitError })], { error: bwlimitError });

  const compare = z.string().regex(new RegExp(`^(${COMPARE_KEYS.join('|')})(,(${COMPARE_KEYS.join('|')}))*$`), {
    error: `must be a comma-separated list of ${COMPARE_KEYS.join(', ')} (like "size,modtime,checksum")`,
  });

  const hooks = strict({ before: argv.optional(), after: argv.optional(), on_failure: argv.optional() });
  const pingUrl = z.string().regex(/^https?:\/\/\S+$/, { error: 'must be an http:// or https:// URL' });
  const notify = strict({ start: pingUrl.optional(), success: pingUrl.optional(), failure: pingUrl.optional() });

  /** Options a pair may set and `defaults:` may set for every pair. */
  const pairOptions = {
    retries: z.int().min(0).max(100).optional(),
    retry_delay: duration.optional(),
    timeout: duration.optional(),
    stall_timeout: duration.optional(),
    exclude: z.array(z.string().min(1)).optional(),
    verify: z.enum(['checksum', 'size', 'none']).optional(),
    full_check: duration.optional(),
    delete: z.boolean().optional(),
    max_delete: maxDelete.optional(),
    backup: z.boolean().optional(),
    bwlimit: bwlimit.optional(),
    transfers: z.int().min(1).max(256).optional(),
    // rsync over ssh only: --compress (zstd when both ends offer it); incompressible formats go uncompressed.
    compress: z.boolean().optional(),
    hooks: hooks.optional(),
    notify: notify.optional(),
  };

  const defaults = strict({ ...pairOptions, concurrency: z.int().min(1).max(64).optional() });
  const manifestShape = { defaults: defaults.optional() };

  const pairSchema = strict({
    name,
    description: z.string().optional(),
    tool: z.enum(TOOLS).optional(),
    local: z.string().min(1),
    remote: z.string().min(1),
    mode: z.enum(MODES).optional(),
    schedule: z.string().optional(),
    tags: z.array(name).optional(),
    // `labsync drain`: a file written at the destination's top last, only when the drain sent and verified everything.
    drain_marker: z.string().regex(/^(?!\.\.?$)[A-Za-z0-9._-]+$/, { error: 'must be a plain file name (letters, digits, ".", "_", "-"), written at the top of the destination' }).optional(),
    branch: z.string().min(1).optional(),
    lfs: z.boolean().optional(),
    alias: z.string().max(255, { error: 'is longer than MLflow takes (255 characters)' }).regex(/^[A-Za-z0-9_-]+$/, { error: 'must be an MLflow alias: letters, digits, "_" and "-"' })
      // MLflow keeps these for itself: setting one fails after the version is registered.
      .refine((a) => !/^(latest|v\d+)$/i.test(a), { error: "is reserved by MLflow ('latest', and v followed by digits): choose another name" }).optional(),
    version: z.int().min(1).optional(),
    // bisync with rclone: which copy of a file changed on both sides wins, and what tells a change.
    conflict: z.enum(CONFLICT_POLICIES).optional(),
    compare: compare.optional(),
    // Push to a local or ssh remote only: dated complete trees, unchanged files hard-linked (rsync --link-dest).
    snapshots: strict({ keep: z.int().min(1).max(10000) }).optional(),
    // A lock at the remote too (issue 16): default on for mirrors (delete: true) and bisync with rsync, rclone, aws.
    remote_lock: z.boolean().optional(),
    // Split across N workers (a Slurm array, a Kubernetes Indexed Job): each moves the files whose path hash falls in its slice.
    shards: z.int().min(1).max(10000).optional(),
    ...pairOptions,
  });

  const s3Remote = strict({
    type: z.literal('s3'),
    bucket: z.string().min(1),
    prefix: z.string().optional(),
    region: z.string().optional(),
    profile: z.string().optional(),
    endpoint: z.string().optional(),
    instance_credentials: z.boolean().optional(),
    part_size: z.string().regex(/^\d+(\.\d+)?[KMG]i?B?$|^\d+$/i, { error: 'must be a size like 8MiB or 16M' }).optional(),
    // md5: an ETag that differs from the local MD5 is drift; opaque: never (SSE-KMS, CRC-based ETags). Absent: judged per listing.
    etag: z.enum(['md5', 'opaque']).optional(),
  });
  const sshRemote = strict({
    type: z.literal('ssh'),
    host: z.string().min(1),
    user: z.string().optional(),
    port: z.int().min(1).max(65535).optional(),
    identity: z.string().optional(),
    path: z.string().min(1),
    known_hosts: z.string().optional(),
    ssh_config: z.string().optional(),
    ssh_options: z.array(z.string().regex(/^[A-Za-z]+=.+$/, { error: 'must be Option=value, as for ssh -o' })).optional(),
    // How long the connection stays open after a run for the next one to ride (OpenSSH ControlPersist); 0: not kept.
    control_persist: z.union([z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, { error: KEEP_ERROR }), z.literal(0)], { error: KEEP_ERROR }).optional(),
  });
  const rcloneRemote = strict({
    type: z.literal('rclone'),
    remote: z.string().min(1),
    path: z.string().optional(),
    config: z.record(z.string(), z.string()).optional(),
  });
  const localRemote = strict({ type: z.literal('local'), path: z.string().min(1) });
  const mlflowRemote = strict({
    type: z.literal('mlflow'),
    tracking_uri: z.string().regex(/^https?:\/\/\S+$/, { error: 'must be the tracking server\'s http:// or https:// URL' }),
    model: z.string().min(1),
    experiment: z.string().min(1).optional(),
  });
  // The token stays in HF_TOKEN or the hf CLI's own login, never here.
  const hfRemote = strict({
    type: z.literal('hf'),
    repo: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'must be ORG/NAME, like my-org/my-model' }),
    repo_type: z.enum(['model', 'dataset', 'space']).optional(),
    revision: z.string().min(1).regex(/^[^\s:~^?*[\\]+$/, { error: 'must be a branch, a tag or a 40-hex commit id' }).optional(),
    create: z.boolean().optional(),
  });

  const remoteSchema = z.discriminatedUnion('type', [s3Remote, sshRemote, rcloneRemote, localRemote, mlflowRemote, hfRemote], {
    error: `type must be one of: ${REMOTE_TYPES.join(', ')}`,
  });

  const pairs = z.array(pairSchema);
  const manifestSchema = strict({
    version: z.literal(1, { error: (issue) => (issue.input === undefined ? 'missing (a manifest starts with `version: 1`)' : 'must be 1 (the only manifest version)') }),
    // `remotes:` or `defaults:` with every entry commented out is YAML's null: none, as for the categories.
    defaults: defaults.nullish(),
    remotes: z.record(name, remoteSchema).nullish(),
    // `data:` with nothing under it (its pairs commented out) is YAML's null: no pairs, as users mean it.
    ...(Object.fromEntries(CATEGORIES.map((c) => [c, pairs.nullish()])) as Record<(typeof CATEGORIES)[number], z.ZodOptional<z.ZodNullable<typeof pairs>>>),
  });
  return { manifestShape, pairSchema, remoteSchema, manifestSchema, defaults };
});

type Schemas = ReturnType<typeof schemas>;
export type RawManifest = z.infer<Schemas['manifestSchema']>;
export type RawPair = z.infer<Schemas['pairSchema']>;
export type RawRemote = z.infer<Schemas['remoteSchema']>;
export type RawDefaults = z.infer<Schemas['defaults']>;
