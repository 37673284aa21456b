// The commands a run would execute, in order, secrets redacted. Runs nothing but `rclone version` (its
// argv depends on it) and lists nothing: a pair labsync plans itself shows its listings, the transfer of
// the files the plan will list, and the verify as labsync's own comparison (plan-steps.ts). With
// --save, the plan as a file instead (plan-save.ts).
import { adapterFor } from '../adapters/index.js';
import type { Adapter, Command, PlanContext } from '../adapters/types.js';
import { under } from '../engine/snapshots.js';
import { runStamp } from '../engine/run.js';
import { directionOf } from '../engine/pair-options.js';
import { plansItself } from '../engine/plan-run.js';
import { selectPairs } from '../engine/select.js';
import { versionIssues, versionsFor } from '../engine/versions.js';
import { ManifestError, type ExitCode } from '../errors.js';
import { formatCommand } from '../exec/format.js';
import { CATEGORIES, type Action, type Category, type ResolvedPair } from '../types.js';
import { openManifestToConnect, redactor, type GlobalOptions } from './context.js';
import { ACTIONS } from './run.js';
import { plannedSteps, stepLine, type PlanStep } from './plan-steps.js';

/** engine/snapshots.ts verifySnapshot: on an ssh host from listings (every file there read: linking changed their ctimes); rsync's comparison elsewhere. */
function snapshotVerify(target: ResolvedPair, adapter: Adapter, rsync: PlanStep[]): PlanStep[] {
  if (target.remote.type !== 'ssh' || !plansItself(target, adapter)) return rsync;
  const note = 'labsync lists the new snapshot on the host and the local side, and compares them: every file of the snapshot hashed on the host by sha256sum over ssh, the local side from its hash cache';
  return [{ step: 'verify', note }, ...rsync.map((s) => ({ ...s, note: 'when the host has no GNU find or sha256sum' }))];
}

/** A snapshot push: where it writes, linked to `latest` (the previous snapshot, when there is one), then published. */
function snapshotSteps(pair: ResolvedPair, adapter: Adapter, ctx: PlanContext): PlanStep[] {
  const redact = redactor();
  const steps = adapter.snapshots as NonNullable<Adapter['snapshots']>;
  const target = under({ ...pair, delete: true, backup: false }, steps.incomplete);
  const show = (step: string, list: readonly Command[]) => list.map((c) => ({ step, command: formatCommand(c, redact) }));
  return [
    ...show('snapshots', steps.state(pair).commands),
    ...show('transfer', adapter.transfer({ ...target, linkDest: '../latest' }, 'push', ctx)),
    ...(pair.verify === 'none' || !adapter.verify ? [] : snapshotVerify(target, adapter, show(`verify`, adapter.verify(target, pair.verify, ctx).commands))),
    ...show('publish', [steps.publish(pair, ctx.stamp)]),
  ];
}

export async function planCommand(category: string | undefined, action: string | undefined, names: readonly string[], opts: GlobalOptions, save?: string): Promise<ExitCode> {
  // `plan raw` and `plan push raw` read naturally too: shift words that are not a category or action.
  const words = [category, action, ...names].filter((w): w is string => w !== undefined);
  const cat = CATEGORIES.find((c) => c === words[0]);
  if (cat) words.shift();
  const act = ACTIONS.find((a) => a === words[0] && a !== 'status');
  if (act) words.shift();
  const manifest = openManifestToConnect(opts);
  const pairs = selectPairs(manifest, { ...(cat ? { category: cat as Category } : {}), names: words, ...(opts.tag ? { tag: opts.tag } : {}) });
  if (save !== undefined) {
    const { planSaveCommand } = await import('./plan-save.js');
    return planSaveCommand(save, (act ?? 'sync') as Action, manifest, pairs, opts);
  }
  const redact = redactor();
  const tooOld = await versionIssues(pairs, redact);
  if (tooOld.length) throw new ManifestError(tooOld);
  // The commands shown are the ones this rclone would be given.
  const toolVersions = await versionsFor(pairs, redact);
  const ctx: PlanContext = { stamp: runStamp(new Date()), tty: false, verbose: Boolean(opts.verbose), resync: false, full: false, ...(Object.keys(toolVersions).length ? { toolVersions } : {}) };
  const planned = pairs.map((pair) => {
    const adapter = adapterFor(pair.tool);
    const direction = directionOf(pair, (act ?? 'sync') as Action);
    if (pair.snapshots && direction === 'push' && adapter.snapshots) return { name: pair.name, category: pair.category, tool: pair.tool, direction, steps: snapshotSteps(pair, adapter, ctx) };
    const own = direction === 'push' || direction === 'pull' ? plannedSteps(pair, adapter, direction, ctx, redact) : undefined;
    if (own) return { name: pair.name, category: pair.category, tool: pair.tool, direction, planned: true, steps: own };
    const steps: PlanStep[] = [
      ...adapter.preview(pair, direction, ctx).commands.map((c) => ({ step: 'preview', command: formatCommand(c, redact) })),
      ...adapter.transfer(pair, direction, ctx).map((c) => ({ step: 'transfer', command: formatCommand(c, redact) })),
      ...(pair.verify !== 'none' && adapter.verify
        ? adapter.verify(pair, pair.verify, ctx).commands.map((c) => ({ step: 'verify', command: formatCommand(c, redact) }))
        : []),
    ];
    return { name: pair.name, category: pair.category, tool: pair.tool, direction, steps };
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ command: 'plan', pairs: planned }, null, 2)}\n`);
    return 0;
  }
  for (const p of planned) {
    const how = 'planned' in p ? ': labsync lists both sides, plans, and has the tool move exactly the planned files' : '';
    process.stdout.write(`# ${p.category}.${p.name}: ${p.direction} with ${p.tool}${how}\n`);
    for (const s of p.steps) process.stdout.write(`${stepLine(s)}\n`);
    process.stdout.write('\n');
  }
  if (!planned.length) process.stdout.write('no pairs selected\n');
  return 0;
}
