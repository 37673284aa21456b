// `labsync apply FILE`: carry out exactly a saved plan. Before any pair runs, the plan must be for
import { NOT_STARTED, stoppedBefore } from '../engine/run-pair.js';
// this manifest and these pairs (else exit 2); each pair then runs as a normal run does (lock, hooks,
// guard, transfer, verify, receipt) except that it stops, changing nothing, when either side no
// longer lists as it did when the plan was made (exit 3).
import { relative } from 'node:path';
import type { PlanSeam } from '../engine/plan-seam.js';
import { directionOf } from '../engine/pair-options.js';
import { exitCodeFor, InterruptedError, UsageError, type ExitCode } from '../errors.js';
import { manifestDigest, pairFingerprint, planOfSaved, readPlan, withoutPlanFile, type SavedPlan } from '../plan/saved.js';
import type { Manifest, ResolvedPair } from '../types.js';
import { VERSION } from '../version.js';
import { openManifestToConnect, redactor, type GlobalOptions } from './context.js';
import { runSelected } from './run-selected.js';

/** The manifest's pairs the plan names, or a usage error saying how the plan and manifest disagree. */
export function pairsFor(saved: SavedPlan, file: string, manifest: Manifest, redact: (s: string) => string): ResolvedPair[] {
  const here = relative(manifest.root, manifest.file);
  if (saved.manifest.sha256 !== manifestDigest(manifest.file)) {
    throw new UsageError(
      `${file} was made for another manifest (${saved.manifest.file}, sha256 ${saved.manifest.sha256.slice(0, 12)}), not ${here} as it is now (sha256 ${manifestDigest(manifest.file).slice(0, 12)}); nothing was run`,
      'a plan is applied with the manifest it was made from; make a new plan with `labsync plan --save`',
    );
  }
  return saved.pairs.map((p) => {
    const pair = manifest.pairs.find((m) => m.name === p.name);
    if (!pair) throw new UsageError(`${file}: pair ${p.name} is not in ${here}; nothing was run`);
    const direction = directionOf(pair, saved.action);
    if (direction !== p.direction || pairFingerprint(pair, p.direction, redact) !== p.fingerprint) {
      throw new UsageError(`${file}: pair ${p.category}.${p.name} in ${here} is not the pair the plan was made for (its tool, folders, direction or delete settings differ); nothing was run`);
    }
    return pair;
  });
}

export async function applyCommand(file: string, opts: GlobalOptions): Promise<ExitCode> {
  // A reviewed plan is carried out whole: narrowing it here would move pairs nobody approved on their own.
  if (opts.tag) throw new UsageError(`apply carries out the whole saved plan; --tag ${opts.tag} would be ignored, so nothing was run`, 'make a plan of just those pairs: `labsync plan --tag TAG --save FILE`');
  const { plan: saved, digest } = readPlan(file);
  const manifest = openManifestToConnect(opts);
  const redact = redactor();
  const pairs = pairsFor(saved, file, manifest, redact).map((p) => withoutPlanFile(p, file));
  const seams = new Map<string, PlanSeam>(saved.pairs.map((p) => [
    p.name,
    { kind: 'apply', plan: planOfSaved(p), ...(p.guard.verdict === 'refused' ? { refused: p.guard.reason } : {}) },
  ]));
  const result = await runSelected(
    manifest, opts, redact,
    { command: `apply ${file}`, action: saved.action, pairs, dryRun: Boolean(opts.dryRun), seams, appliedPlan: digest },
    (emit) => {
      if (saved.labsyncVersion !== VERSION) emit({ kind: 'warning', message: `${file} was made by labsync ${saved.labsyncVersion}; this is ${VERSION}` });
    },
  );
  return exitCodeFor(result.pairs.map((p) => p.status), stoppedBefore(result.pairs) ? new InterruptedError(NOT_STARTED) : undefined);
}
