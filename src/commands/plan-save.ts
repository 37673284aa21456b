// `labsync plan --save FILE`: list both sides of each selected pair, compute its plan and the guard's
// verdict, write them to FILE, change nothing. `labsync apply FILE` carries the file out.
import { relative } from 'node:path';
import { adapterFor } from '../adapters/index.js';
import { storeLister } from '../adapters/files.js';
import type { PlanSeam } from '../engine/plan-seam.js';
import { plansItself } from '../engine/plan-run.js';
import { directionOf } from '../engine/pair-options.js';
import { EXIT, exitCodeFor, InterruptedError, UsageError, type ExitCode } from '../errors.js';
import { NOT_STARTED, stoppedBefore } from '../engine/run-pair.js';
import { writeFileAtomic } from '../state/atomic.js';
import { manifestDigest, planDigest, planText, savedPairOf, withoutPlanFile, type SavedPair } from '../plan/saved.js';
import type { Action, Manifest, ResolvedPair } from '../types.js';
import { VERSION } from '../version.js';
import type { GlobalOptions } from './context.js';
import { redactor } from './context.js';
import { runSelected } from './run-selected.js';

/** Whether this pair's run reaches a plan labsync computes from two listings (git, dvc and bisync do not). */
export function plannable(pair: ResolvedPair, action: Action): boolean {
  const direction = directionOf(pair, action);
  if (direction !== 'push' && direction !== 'pull') return false;
  // A snapshot push writes a new dated folder each run (snapshots.ts): nothing to plan against.
  if (pair.snapshots && direction === 'push') return false;
  const adapter = adapterFor(pair.tool);
  return plansItself(pair, adapter) || Boolean(storeLister(adapter, pair, direction));
}

export async function planSaveCommand(file: string, action: Action, manifest: Manifest, pairs: readonly ResolvedPair[], opts: GlobalOptions): Promise<ExitCode> {
  if (!pairs.length) throw new UsageError('no pairs selected; nothing to plan');
  const left = pairs.filter((p) => !plannable(p, action));
  const snapshot = left.find((p) => p.snapshots && directionOf(p, action) === 'push');
  if (snapshot) {
    throw new UsageError(`plan --save: ${snapshot.category}.${snapshot.name} (${snapshot.tool}, push) cannot be planned ahead: a snapshot push writes a new dated folder each run, so no listing holds for it; select the other pairs by name or category`);
  }
  if (left.length) {
    throw new UsageError(
      `plan --save: ${left.map((p) => `${p.category}.${p.name} (${p.tool}, ${directionOf(p, action)})`).join(', ')} cannot be planned ahead: ${left.length === 1 ? 'its tool compares' : 'their tools compare'} by itself, without a listing labsync can plan from; select the other pairs by name or category`,
      'git, dvc and bisync pairs run through their own tool; plan --save covers rsync, rclone, aws, hf and mlflow push/pull pairs',
    );
  }
  const redact = redactor();
  const kept = new Map<string, SavedPair>();
  const seams = new Map<string, PlanSeam>(pairs.map((pair) => {
    const direction = directionOf(pair, action) as 'push' | 'pull';
    return [pair.name, { kind: 'save', keep: (plan, refusal) => void kept.set(pair.name, savedPairOf(pair, direction, plan, refusal, redact)) }];
  }));
  const result = await runSelected(manifest, opts, redact, { command: `plan --save ${file}`, action, pairs: pairs.map((p) => withoutPlanFile(p, file)), dryRun: true, seams });
  const statuses = result.pairs.map((p) => p.status);
  const say = (line: string): boolean => (opts.json ? process.stderr : process.stdout).write(`${line}\n`);
  const missing = pairs.filter((p) => !kept.has(p.name));
  if (missing.length) {
    process.stderr.write(`labsync: no plan written to ${file}: ${missing.map((p) => p.name).join(', ')} could not be planned (see above)\n`);
    // Never 0 without a plan written: CI would carry on with whatever file lies at that path.
    // Stopped before some pairs' turn: interrupted (130), as any run (review 46).
    const code = exitCodeFor(statuses, stoppedBefore(result.pairs) ? new InterruptedError(NOT_STARTED) : undefined);
    return code === EXIT.ok ? EXIT.usage : code;
  }
  const text = redact(planText({
    version: VERSION, createdAt: result.startedAt, action, manifestFile: relative(manifest.root, manifest.file), manifestSha256: manifestDigest(manifest.file),
    pairs: pairs.map((p) => kept.get(p.name) as SavedPair),
  }));
  try {
    await writeFileAtomic(file, text);
  } catch (error) {
    throw new UsageError(`--save ${file}: cannot write the plan there (${(error as Error).message}); nothing was changed`);
  }
  const all = [...kept.values()];
  const count = (k: 'send' | 'replace' | 'delete'): number => all.reduce((n, p) => n + p[k].length, 0);
  say(`plan ${planDigest(text).slice(0, 12)} written to ${file}: ${count('send')} to send, ${count('replace')} to replace, ${count('delete')} to delete`);
  const refused = all.filter((p) => p.guard.verdict === 'refused');
  if (refused.length) say(`the guard refused ${refused.map((p) => p.name).join(', ')}: \`labsync apply ${file}\` will refuse ${refused.length === 1 ? 'it' : 'them'} too`);
  return exitCodeFor(statuses);
}
