// A saved plan (`labsync plan --save FILE`, `labsync apply FILE`): the plan as a file a CI reviewer
// reads and approves. It names the manifest and each pair it was made for, so `apply` can refuse a
// plan for anything else before a tool runs, and carries each side's listing digest, so `apply` can
// refuse one whose sides have moved on since.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { lazy } from '../util/lazy.js';
import { whereOfPair } from '../state/ends.js';
import type { Redactor } from '../exec/redact.js';
import type { Action, ResolvedPair } from '../types.js';
import type { PairPlan, PlannedFile } from './types.js';

/** Bumped when a plan file's meaning changes: an older labsync must not guess at a newer plan. */
export const PLAN_FORMAT = 1;

// Built on first use (util/lazy.ts): a run that reads no plan builds no schema.
const schemas = lazy(() => {
  const file = z.strictObject({ path: z.string().min(1), size: z.number().int().nonnegative(), reason: z.enum(['missing', 'size', 'mtime', 'content', 'extra']) });
  const digest = z.string().regex(/^[0-9a-f]{64}$/);

  const savedPair = z.strictObject({
    name: z.string().min(1),
    category: z.enum(['code', 'data', 'models']),
    tool: z.string(),
    direction: z.enum(['push', 'pull']),
    remote: z.string(),
    /** sha256 of what the pair is (tool, direction, folders, delete, max_delete, excludes): see pairFingerprint. */
    fingerprint: digest,
    sourceDigest: digest,
    destDigest: digest,
    sourceFiles: z.number().int().nonnegative(),
    destFiles: z.number().int().nonnegative(),
    send: z.array(file),
    replace: z.array(file),
    delete: z.array(file),
    guard: z.discriminatedUnion('verdict', [z.strictObject({ verdict: z.literal('ok') }), z.strictObject({ verdict: z.literal('refused'), reason: z.string() })]),
  });

  const savedPlan = z.strictObject({
    labsyncPlan: z.literal(PLAN_FORMAT),
    labsyncVersion: z.string(),
    createdAt: z.string(),
    action: z.enum(['push', 'pull', 'sync']),
    manifest: z.strictObject({ file: z.string(), sha256: digest }),
    pairs: z.array(savedPair).min(1),
  });
  return { savedPair, savedPlan };
});

export type SavedPlan = z.infer<ReturnType<typeof schemas>['savedPlan']>;
export type SavedPair = z.infer<ReturnType<typeof schemas>['savedPair']>;
export type GuardVerdict = SavedPair['guard'];

/** sha256 of the manifest's bytes: the plan is for this manifest and no other (a changed max_delete is another). */
export function manifestDigest(manifestFile: string): string {
  return createHash('sha256').update(readFileSync(manifestFile)).digest('hex');
}

/**
 * What a pair is, independent of where the checkout lives (CI jobs may check out to different
 * folders): a plan made for one pair must not be carried out on a pair that has since changed.
 */
export function pairFingerprint(pair: ResolvedPair, direction: 'push' | 'pull', redact: Redactor): string {
  // Where the sides are, not how the remote is reached: a run adds its kept ssh connection's socket and
  // the digest of the key and config files, which a CI job rewrites between planning and applying.
  const what = { category: pair.category, tool: pair.tool, direction, where: whereOfPair(pair, redact), delete: pair.delete, maxDelete: pair.maxDelete, exclude: pair.exclude };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

/**
 * The pair with the plan file itself left out of its listings, where the file lies in its local folder
 * (`local: .` and `plan --save plan.json`, or CI's download of the plan into the workspace): written
 * after the listing, it made every apply stale, and a push would have sent it. Not in the pair's
 * fingerprint: the plan and apply judge the same pair. A name with glob characters is left as it is.
 */
export function withoutPlanFile(pair: ResolvedPair, file: string): ResolvedPair {
  // Both by their real paths: the manifest may be named through a link (/home/u → /gpfs/u), the plan by the working folder.
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const rel = relative(real(pair.local), join(real(dirname(resolve(file))), basename(file)));
  if (!rel || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) || /[*?[\\]/.test(rel)) return pair;
  return { ...pair, exclude: [...pair.exclude, `/${rel.split(sep).join('/')}`] };
}

export function savedPairOf(pair: ResolvedPair, direction: 'push' | 'pull', plan: PairPlan, refusal: string | undefined, redact: Redactor): SavedPair {
  const files = (l: readonly PlannedFile[]): PlannedFile[] => l.map((f) => ({ path: f.path, size: f.size, reason: f.reason }));
  return {
    name: pair.name, category: pair.category, tool: pair.tool, direction, remote: redact(pair.remoteLabel),
    fingerprint: pairFingerprint(pair, direction, redact),
    sourceDigest: plan.sourceDigest, destDigest: plan.destDigest, sourceFiles: plan.sourceFiles, destFiles: plan.destFiles,
    send: files(plan.send), replace: files(plan.replace), delete: files(plan.delete),
    guard: refusal ? { verdict: 'refused', reason: refusal } : { verdict: 'ok' },
  };
}

export function planOfSaved(p: SavedPair): PairPlan {
  return { send: p.send, replace: p.replace, delete: p.delete, sourceFiles: p.sourceFiles, destFiles: p.destFiles, sourceDigest: p.sourceDigest, destDigest: p.destDigest };
}

export function planText(o: { version: string; createdAt: string; action: Action; manifestFile: string; manifestSha256: string; pairs: readonly SavedPair[] }): string {
  const value: SavedPlan = {
    labsyncPlan: PLAN_FORMAT, labsyncVersion: o.version, createdAt: o.createdAt, action: o.action as SavedPlan['action'],
    manifest: { file: o.manifestFile, sha256: o.manifestSha256 }, pairs: [...o.pairs],
  };
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** sha256 of a plan file's bytes: the name a receipt gives the plan it applied. */
export const planDigest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A plan file, read and checked; every way it can be wrong is a usage error naming the file. */
export function parsePlan(text: string, name: string): SavedPlan {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${name}: not valid JSON (${(error as Error).message}); a plan is what \`labsync plan --save ${name}\` writes`);
  }
  if (typeof value !== 'object' || value === null || !('labsyncPlan' in value)) {
    throw new UsageError(`${name}: not a labsync plan (no "labsyncPlan" field); a plan is what \`labsync plan --save ${name}\` writes`);
  }
  if ((value as { labsyncPlan: unknown }).labsyncPlan !== PLAN_FORMAT) {
    throw new UsageError(`${name}: a labsync plan of format ${String((value as { labsyncPlan: unknown }).labsyncPlan)}, this labsync reads format ${PLAN_FORMAT}; make the plan again with this version`);
  }
  const got = schemas().savedPlan.safeParse(value);
  if (!got.success) {
    const issue = got.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(top)';
    throw new UsageError(`${name}: not a labsync plan: at ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const names = new Set<string>();
  for (const p of got.data.pairs) {
    if (names.has(p.name)) throw new UsageError(`${name}: not a labsync plan: pair ${p.name} appears twice`);
    names.add(p.name);
  }
  return got.data;
}

export function readPlan(path: string): { plan: SavedPlan; digest: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${path}: cannot read the plan (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return { plan: parsePlan(text, path), digest: planDigest(text) };
}

/** Why this plan is not the one to carry out now for this pair, or undefined: same digests, same files. */
export function staleness(saved: PairPlan, now: PairPlan, labels: { source: string; dest: string }): string | undefined {
  const moved: string[] = [];
  if (saved.sourceDigest !== now.sourceDigest) moved.push(`the source (${labels.source})`);
  if (saved.destDigest !== now.destDigest) moved.push(`the destination (${labels.dest})`);
  if (moved.length) return `the plan is stale: ${moved.join(' and ')} changed since it was made; nothing was changed. Make a new plan`;
  const same = (a: readonly PlannedFile[], b: readonly PlannedFile[]): boolean =>
    a.length === b.length && a.every((f, i) => f.path === b[i]?.path && f.size === b[i]?.size && f.reason === b[i]?.reason);
  if (!same(saved.send, now.send) || !same(saved.replace, now.replace) || !same(saved.delete, now.delete)) {
    // The digests leave out content hashes (a side's cache may know more or less of them between runs):
    // a file rewritten at its size and mtime plans differently while both listings look the same.
    return 'the plan is stale: a file\'s content changed since it was made though its size and time did not (or another labsync version plans the sides differently); nothing was changed. Make a new plan';
  }
  return undefined;
}
