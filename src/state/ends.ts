// Where a pair's two sides are, as one key: what `status` counts as the same pair after an edit, and
// what a saved plan was made for. Not how a remote is reached (keys, options, kept connections).
import { createHash } from 'node:crypto';
import type { Redactor } from '../exec/redact.js';
import type { ResolvedPair } from '../types.js';

/**
 * A digest of where the pair's two ends are: the local folder and the resolved remote (a `remotes:` entry's
 * host, bucket or path edited counts, not only the pair's `remote:` words), secrets redacted first (a
 * token that changes each CI job is the same ends; state files hold no secret), the manifest's folder
 * written as <root> (the project moved, or reached through a link, is the same pair).
 */
export function endsKey(pair: Pick<ResolvedPair, 'root' | 'local' | 'remote'>, redact: Redactor): string {
  // Versioned: a key of another form (an earlier build's) is not "other ends".
  return `${ENDS_FORM}${createHash('sha256').update(JSON.stringify(whereOfPair(pair, redact))).digest('hex').slice(0, 32)}`;
}

// v3: <root> only for this machine's paths, rclone's location keys kept (v2 keys read as an earlier form).
const ENDS_FORM = 'v3:';

/** The pair's local folder and where its remote is, secrets redacted, the manifest's folder as <root> (saved plans' fingerprints too). */
export function whereOfPair(pair: Pick<ResolvedPair, 'root' | 'local' | 'remote'>, redact: Redactor): unknown[] {
  // Only at a path's boundary (/data/proj-archive is not <root>-archive of /data/proj), either separator
  // (a Windows checkout), and only for paths on this machine: an ssh host's folder of the same name is
  // another place, which moving the project here does not move.
  const here = (s: string): string => (s === pair.root ? '<root>' : s.startsWith(`${pair.root}/`) || s.startsWith(`${pair.root}\\`) ? `<root>${s.slice(pair.root.length)}` : s);
  const where = whereOf(pair.remote).map((v) => (typeof v === 'string' ? redact(v) : v));
  // Paths on this machine: a local remote's folder, a git remote or MLflow store given as a path or file: URL.
  const onThisMachine = pair.remote.type === 'local' || pair.remote.type === 'git' || pair.remote.type === 'mlflow';
  const local = (v: string): string => (v.startsWith(`file://${pair.root}`) ? `file://${here(v.slice('file://'.length))}` : here(v));
  return [here(pair.local), ...(onThisMachine ? where.map((v) => (typeof v === 'string' ? local(v) : v)) : where)];
}

/**
 * What says where a remote is, by kind: not how it is reached (identity, ssh options, the kept
 * connection's socket and digest a run adds, credentials), which may change without moving it.
 */
function whereOf(r: ResolvedPair['remote']): readonly unknown[] {
  switch (r.type) {
    case 'local': return [r.type, r.path];
    case 'ssh': return [r.type, r.user ?? '', r.host, r.port ?? 22, r.path];
    case 's3': return [r.type, r.endpoint ?? '', r.region ?? '', r.bucket, r.prefix];
    // An inline config's credentials change per session (STS keys) without moving the remote.
    // Left out by name: what holds a credential (keys, secrets, tokens, passwords, SAS URLs, connection
    // strings); kept: what says where (an account name, swift's auth URL, an endpoint, a region).
    case 'rclone': return [r.type, r.remote, r.path, JSON.stringify(Object.entries(r.config ?? {}).filter(([k]) => !/key|secret|token|pass|credential|client_id|sas_url|connection_string|service_account/i.test(k)).sort())];
    case 'git': return [r.type, r.url];
    case 'mlflow': return [r.type, r.trackingUri, r.model, r.experiment];
    case 'hf': return [r.type, r.repo, r.repoType, r.revision, r.path];
  }
}

/** Whether a record was made for these ends (a record from before ends were kept, or kept in another form, counts). */
export const sameEnds = (r: { readonly ends?: unknown } | undefined, ends: string): boolean => typeof r?.ends !== 'string' || !r.ends.startsWith(ENDS_FORM) || r.ends === ends;
