import { versionIssues } from '../engine/versions.js';
import { redactDeep } from '../exec/redact.js';
import { whyNoRemoteLock } from '../remote-lock/backend-for.js';
import { ManifestError, type ExitCode } from '../errors.js';
import { whyNoFullCheck } from '../manifest/full-check-kinds.js';
import { displayName } from '../manifest/load.js';
import { openManifest, redactor, type GlobalOptions } from './context.js';

export async function validateCommand(opts: GlobalOptions): Promise<ExitCode> {
  // Every problem reported, always: validate never takes the remembered copy.
  const manifest = openManifest(opts, process.cwd(), true);
  // What the installed tools cannot do is a manifest problem too: said now, not mid-run.
  const tooOld = await versionIssues(manifest.pairs, redactor());
  if (tooOld.length) throw new ManifestError(tooOld);
  // Not errors: the run goes on with the local lock alone, and says so where the manifest asked for more.
  const notes = manifest.pairs.filter((p) => p.remoteLock).flatMap((p) => {
    const why = whyNoRemoteLock(p);
    return why ? [`${p.category}.${p.name}: remote_lock: ${why}`] : [];
  });
  // Set on the pair itself (from defaults it applies only where it can): ignored at run time.
  for (const p of manifest.pairs) {
    const why = p.fullCheckMs !== undefined ? whyNoFullCheck(p.tool) : undefined;
    if (why) notes.push(`${p.category}.${p.name}: full_check: ignored; ${why}`);
  }
  // A remote's URL may carry a token or password from the environment (`https://x:${GH_PAT}@…`): shown redacted, as every other output.
  const redact = redactor();
  const pairs = manifest.pairs.map((p) => ({ name: p.name, category: p.category, tool: p.tool, mode: p.mode, local: redact(p.local), remote: redact(p.remoteLabel), ...(p.shards ? { shards: p.shards } : {}), ...(p.drainMarker ? { drainMarker: p.drainMarker } : {}) }));
  if (opts.json) process.stdout.write(`${JSON.stringify(redactDeep({ ok: true, file: manifest.file, pairs, ...(notes.length ? { warnings: notes } : {}) }, redact), null, 2)}\n`);
  else if (!opts.quiet) {
    process.stdout.write(`${displayName(manifest.file)}: ok, ${pairs.length} pair${pairs.length === 1 ? '' : 's'}\n`);
    for (const p of pairs) process.stdout.write(`  ${p.category}.${p.name}  ${p.tool} ${p.mode}  ${p.remote}${p.shards ? `  (${p.shards} shards)` : ''}${p.drainMarker ? `  (drain marker ${p.drainMarker})` : ''}\n`);
    for (const n of notes) process.stderr.write(`warning: ${redact(n)}\n`);
  }
  return 0;
}
