// Cross-field rules. What a tool can do is read from its adapter's capabilities, said once there.
import { adapterFor } from '../adapters/index.js';
import type { ManifestIssue } from '../errors.js';
import { CATEGORIES, type Category, type Endpoint } from '../types.js';
import { cronProblem } from '../util/cron.js';
import { parseDuration } from '../util/duration.js';
import { REMOTE_LOCK_TOOLS, resolveRemote, toolFor } from './resolve.js';
import { schemas, type RawManifest, type RawPair, type RawRemote } from './schema.js';
import { issueAt } from './issues.js';
import { loneBackslashAtEnd } from '../verify/glob.js';
import { suggest } from './suggest.js';
import type { ParsedYaml } from './yaml-doc.js';

/** What the rules can see: the pieces that passed the schema, with their original indices. */
export interface RuleInput {
  readonly defaults: NonNullable<RawManifest['defaults']>;
  readonly remotes: NonNullable<RawManifest['remotes']>;
  readonly pairs: readonly { readonly category: Category; readonly index: number; readonly pair: RawPair }[];
  /** Every pair's name, valid pair or not: uniqueness is about names alone. */
  readonly names: readonly { readonly category: Category; readonly index: number; readonly name: string }[];
}

function pairRules(parsed: ParsedYaml, m: RuleInput, category: Category, index: number, pair: RawPair): ManifestIssue[] {
  const out: ManifestIssue[] = [];
  const at = (key: string, message: string): void => void out.push(issueAt(parsed, [category, index, key], message));
  const defaults = m.defaults;
  const endpoint = resolveRemote(pair.remote, m.remotes, '/', pair.tool ?? (category === 'code' ? 'git' : undefined));
  if (typeof endpoint === 'string') at('remote', endpoint);
  const tool = toolFor(pair, category, endpoint);
  if (!tool) return out;
  const caps = adapterFor(tool).capabilities;
  const mode = pair.mode ?? (tool === 'git' ? 'bisync' : 'push');
  if (!caps.directions.includes(mode)) at('mode', `mode ${mode} is not supported by ${tool} (supported: ${caps.directions.join(', ')})`);
  if (typeof endpoint !== 'string' && !caps.remoteTypes.includes(endpoint.type)) {
    at('remote', `${tool} cannot reach a ${endpoint.type} remote (it reaches: ${caps.remoteTypes.join(', ')})`);
  }
  if (tool === 'hf') hfRules(at, category, mode, endpoint);
  // A code pair's fetches land in refs/labsync/<name>: a name git refuses as a ref component fails every fetch.
  if (tool === 'git' && typeof pair.name === 'string' && (/^\.|\.\.|\.lock$|\.$|@\{/.test(pair.name))) {
    at('name', `a code pair's name is part of a git ref (refs/labsync/${pair.name}), which git refuses (a leading ".", "..", a trailing "." or ".lock", "@{"): rename the pair`);
  }
  // Safety options count wherever they come from: a backup silently not taken loses files.
  if ((pair.delete ?? defaults.delete) && !caps.delete) at('delete', `delete is not supported by ${tool}`);
  if ((pair.backup ?? defaults.backup) && !caps.backup) at('backup', `backup is not supported by ${tool}`);
  // Tuning options from defaults apply only where the tool has them.
  if (pair.bwlimit !== undefined && !caps.bwlimit) at('bwlimit', `bwlimit is not supported by ${tool}`);
  if (pair.transfers !== undefined && !caps.transfers) at('transfers', `transfers is not supported by ${tool}`);
  const remoteType = typeof endpoint === 'string' ? undefined : endpoint.type;
  if (pair.compress && (tool !== 'rsync' || remoteType !== 'ssh')) {
    at('compress', `only rsync over ssh compresses (this pair: ${tool} to a ${remoteType ?? 'unknown'} remote); other tools and local copies send uncompressed`);
  }
  if (pair.snapshots) {
    if (tool !== 'rsync' || (remoteType !== 'local' && remoteType !== 'ssh')) at('snapshots', `need rsync to a local or ssh remote (this pair: ${tool} to a ${remoteType ?? 'unknown'} remote)`);
    else if (mode !== 'push') at('snapshots', `are made by push pairs only (this pair's mode: ${mode}); \`labsync <category> pull NAME [--snapshot TIMESTAMP]\` restores from one`);
    // Said only where the pair itself asks: from defaults these simply do not apply to a snapshot pair.
    if (pair.backup) at('backup', 'does not apply to snapshots: the previous snapshot keeps every replaced and deleted file');
  }
  if (pair.remote_lock && (!REMOTE_LOCK_TOOLS.includes(tool) || !['s3', 'ssh', 'local', 'rclone'].includes(remoteType ?? ''))) {
    at('remote_lock', `a lock at the remote is taken by rsync, rclone and aws pairs on s3, ssh, local and rclone remotes (this pair: ${tool} to a ${remoteType ?? 'unknown'} remote)`);
  }
  if (pair.shards !== undefined && pair.shards > 1) {
    const plans = mode !== 'bisync' && !pair.snapshots && (tool === 'aws' || tool === 'rclone' || (tool === 'rsync' && (remoteType === 'local' || remoteType === 'ssh')));
    if (!plans) at('shards', `a pair is split only where labsync plans the files itself: rsync (local or ssh remote), aws or rclone, push or pull, without snapshots (this pair: ${tool} ${mode} to a ${remoteType ?? 'unknown'} remote${pair.snapshots ? ', snapshots' : ''})`);
  }
  if (pair.drain_marker !== undefined && !drains(tool, remoteType, mode)) {
    at('drain_marker', `drain pushes rsync pairs to a local or ssh remote, and aws or rclone pairs to an s3 remote (this pair: ${tool} ${mode} to a ${remoteType ?? 'unknown'} remote)`);
  }
  const verify = pair.verify ?? defaults.verify;
  if (verify && verify !== 'none' && !caps.verify.includes(verify) && pair.verify) {
    at('verify', `verify: ${verify} is not supported by ${tool} (supported: ${[...caps.verify, 'none'].join(', ')})`);
  }
  if (pair.schedule) {
    const problem = cronProblem(pair.schedule);
    if (problem) at('schedule', problem);
  }
  out.push(...registryRules(pair, tool, mode).map(([key, message]) => issueAt(parsed, [category, index, key], message)));
  const md = pair.max_delete;
  if (typeof md === 'string' && md.endsWith('%') && Number(md.slice(0, -1)) > 100) at('max_delete', 'a percentage cannot exceed 100%');
  for (const [i, message] of excludeProblems(pair.exclude)) out.push(issueAt(parsed, [category, index, 'exclude', i], message));
  const stall = stallProblem(pair.stall_timeout);
  if (stall) at('stall_timeout', stall);
  const timeout = timeoutProblem(pair.timeout);
  if (timeout) at('timeout', timeout);
  // conflict and compare are rclone bisync's own options; elsewhere they would be silently ignored.
  for (const key of ['conflict', 'compare'] as const) {
    if (pair[key] !== undefined && (tool !== 'rclone' || mode !== 'bisync')) at(key, `applies only to a bisync pair with rclone (this pair: ${tool} ${mode})`);
  }
  if (pair.compare?.split(',').includes('checksum') && typeof endpoint !== 'string' && !hasHashes(endpoint)) {
    at('compare', `checksum needs a remote that keeps hashes; ${describeNoHashes(endpoint)}`);
  }
  return out;
}

/** What `labsync drain` can push newest first and stop cleanly: rsync to a local or ssh remote, aws or rclone to s3; mode push. */
export function drains(tool: string, remoteType: string | undefined, mode: string): boolean {
  if (mode !== 'push') return false;
  return (tool === 'rsync' && (remoteType === 'local' || remoteType === 'ssh')) || ((tool === 'aws' || tool === 'rclone') && remoteType === 's3');
}

/** alias / version name an MLflow model version: only mlflow pairs have them, and a push makes its own version. */
function registryRules(pair: RawPair, tool: string, mode: string): [string, string][] {
  const out: [string, string][] = [];
  if (tool !== 'mlflow') {
    if (pair.alias !== undefined) out.push(['alias', `only mlflow pairs have an alias (this pair uses ${tool})`]);
    if (pair.version !== undefined) out.push(['version', `only mlflow pairs have a version (this pair uses ${tool})`]);
    return out;
  }
  if (pair.version !== undefined && mode !== 'pull') out.push(['version', 'only a pull reads a given version (a push makes a new one; point alias: at it instead)']);
  if (pair.version !== undefined && pair.alias !== undefined) out.push(['version', 'give alias or version, not both: both name the version to pull']);
  return out;
}

/** A Hub repo holds models (issue 14); hf download puts a subfolder's files under that subfolder, so a pull takes the repo's root. */
function hfRules(at: (key: string, message: string) => void, category: Category, mode: string, endpoint: Endpoint | string): void {
  if (category !== 'models') at('remote', `tool hf is for models: pairs (this pair is under ${category}:)`);
  // A commit goes on a branch: a push to a pinned commit id cannot land anywhere.
  if (typeof endpoint !== 'string' && endpoint.type === 'hf' && mode !== 'pull' && /^[0-9a-f]{40}$/.test(endpoint.revision)) {
    at('remote', `a push needs a branch as the hf remote's revision, not the commit ${endpoint.revision.slice(0, 12)}…; pin commits for pulls`);
  }
  if (typeof endpoint !== 'string' && endpoint.type === 'hf' && endpoint.path && mode === 'pull') {
    at('remote', `a pull from a subfolder of an hf repo (${endpoint.path}) is not supported: pull the repo's root into its own folder`);
  }
}

/** rclone backends that keep no hash of a file: a checksum comparison there compares nothing. https://rclone.org/overview/#features */
const NO_HASHES = new Set(['ftp', 'http', 'webdav', 'smb', 'crypt', 'union', 'memory', 'combine']);

function hasHashes(endpoint: Exclude<ReturnType<typeof resolveRemote>, string>): boolean {
  return endpoint.type !== 'rclone' || !NO_HASHES.has(String(endpoint.config?.type ?? '').toLowerCase());
}

function describeNoHashes(endpoint: Exclude<ReturnType<typeof resolveRemote>, string>): string {
  return `rclone remote '${endpoint.type === 'rclone' ? endpoint.remote : ''}' (type ${endpoint.type === 'rclone' ? endpoint.config?.type : endpoint.type}) keeps none; use size,modtime`;
}

/**
 * rsync reads a leading `- ` or `+ ` of an --exclude as its filter rule's prefix (`+ x` even becomes an
 * include) and a lone `!` as "clear the list", while labsync's plan and rclone read them as names: the
 * plan sent files rsync then left out, and the verify called it drift.
 */
export function excludeProblems(patterns: readonly string[] | undefined): [number, string][] {
  const out: [number, string][] = [];
  for (const [i, p] of (patterns ?? []).entries()) {
    if (p === '!') out.push([i, "'!' means \"clear the exclude list\" to rsync: leave it out (exclude: [] excludes nothing)"]);
    else if (loneBackslashAtEnd(p)) out.push([i, `'${p}' ends in a backslash that escapes nothing: rsync matches nothing with it, where labsync's listing would read a backslash in the name (review 73); write '\\\\' for a backslash in the name, or leave it out`]);
    else if (/^[-+] /.test(p)) {
      const fix = p[0] === '-' ? `write '${p.slice(2)}'` : 'exclude has no include rules: leave it out and narrow the pattern it was to undo';
      out.push([i, `'${p}' is an rsync filter rule, not a pattern (rsync reads it as "${p[0] === '+' ? 'include' : 'exclude'} ${p.slice(2)}"): ${fix}; a name that starts with '${p.slice(0, 2)}' is written '[${p[0]}]${p.slice(1)}'`]);
    }
  }
  return out;
}

/** Tools report progress once a second: a shorter stall_timeout would stop healthy transfers. */
function stallProblem(value: string | undefined): string | undefined {
  const ms = value === undefined ? undefined : parseDuration(value);
  return ms !== undefined && ms < 1000 ? `must be at least 1s (tools report progress about once a second), got ${value}` : undefined;
}

/** Under a second, a timeout meant "none" to some steps and "at once" to others (review 41): refused. */
function timeoutProblem(value: string | undefined): string | undefined {
  const ms = value === undefined ? undefined : parseDuration(value);
  return ms !== undefined && ms < 1000 ? `must be at least 1s (for no practical bound give a long one, like 24h), got ${value}` : undefined;
}

export function checkRules(parsed: ParsedYaml, m: RuleInput): ManifestIssue[] {
  const out: ManifestIssue[] = [];
  const seen = new Map<string, string>();
  for (const { category, index, name } of m.names) {
    const first = seen.get(name);
    if (first) out.push(issueAt(parsed, [category, index, 'name'], `name '${name}' is already used by ${first}; names are unique across code, data and models`));
    else seen.set(name, `${category}.${name}`);
  }
  for (const { category, index, pair } of m.pairs) out.push(...pairRules(parsed, m, category, index, pair));
  const md = m.defaults.max_delete;
  if (typeof md === 'string' && md.endsWith('%') && Number(md.slice(0, -1)) > 100) {
    out.push(issueAt(parsed, ['defaults', 'max_delete'], 'a percentage cannot exceed 100%'));
  }
  for (const [i, message] of excludeProblems(m.defaults.exclude)) out.push(issueAt(parsed, ['defaults', 'exclude', i], message));
  const stall = stallProblem(m.defaults.stall_timeout);
  if (stall) out.push(issueAt(parsed, ['defaults', 'stall_timeout'], stall));
  const timeout = timeoutProblem(m.defaults.timeout);
  if (timeout) out.push(issueAt(parsed, ['defaults', 'timeout'], timeout));
  return out;
}

/** The parts of a manifest that pass the schema on their own, so rules can run even when other parts do not. */
export function ruleInput(value: unknown): RuleInput {
  const v = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const defaults = withoutBadKeys(schemas().manifestShape.defaults, v.defaults, new Set());
  const remotes: Record<string, RawRemote> = {};
  for (const [name, raw] of Object.entries((v.remotes && typeof v.remotes === 'object' ? v.remotes : {}) as Record<string, unknown>)) {
    const r = schemas().remoteSchema.safeParse(raw);
    if (r.success) remotes[name] = r.data;
  }
  const pairs: RuleInput['pairs'][number][] = [];
  const names: RuleInput['names'][number][] = [];
  for (const category of CATEGORIES) {
    const list = Array.isArray(v[category]) ? (v[category] as unknown[]) : [];
    for (const [index, raw] of list.entries()) {
      const name = (raw as { name?: unknown } | null)?.name;
      if (typeof name === 'string') names.push({ category, index, name });
      const p = withoutBadKeys(schemas().pairSchema, raw, SHAPING_KEYS, Object.keys(schemas().pairSchema.shape));
      if (p) pairs.push({ category, index, pair: p });
    }
  }
  return { defaults: defaults ?? {}, remotes, pairs, names };
}

/** Keys that decide which tool, remote and direction a pair has: without them the rules would judge another pair. */
const SHAPING_KEYS = new Set(['name', 'local', 'remote', 'tool', 'mode']);

type Parser<T> = { safeParse: (v: unknown) => { success: true; data: T } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; code: string; keys?: readonly string[] }[] } } };

/**
 * What parses once the keys the schema refused are left out, so the rules also judge the rest of a
 * part with one bad key (a bad `max_delete` had hidden a bad `timeout` until it was fixed). Undefined
 * when a key that shapes the rest is among them, or when it still does not parse.
 */
function withoutBadKeys<T>(schema: Parser<T>, raw: unknown, shaping: ReadonlySet<string>, known: readonly string[] = []): T | undefined {
  const first = schema.safeParse(raw);
  if (first.success) return first.data;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const bad = new Set<string>();
  for (const issue of first.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // A misspelled shaping key (`mdoe: bisync`, `tol: rclone`) shaped the pair as much as the real one:
      // judged without it, the pair would be another one (review 50: "this pair: rclone push"). Judged by
      // the closest of all a pair's keys, so `lock` (for `local`?) is not taken for one (review 51).
      for (const k of issue.keys ?? []) {
        if (shaping.has(suggest(k, known) ?? '')) return undefined;
        bad.add(k);
      }
    } else if (typeof issue.path[0] === 'string') bad.add(issue.path[0]);
    else return undefined;
  }
  if ([...bad].some((k) => shaping.has(k))) return undefined;
  const rest = Object.fromEntries(Object.entries(raw).filter(([k]) => !bad.has(k)));
  const again = schema.safeParse(rest);
  return again.success ? again.data : undefined;
}
