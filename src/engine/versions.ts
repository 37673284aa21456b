// Each tool's version, asked once per binary (remembered across runs, version-cache.ts): the receipt
// records it, and rclone's argv and exit codes depend on it. `doctor` asks afresh, on its own.
import { adapterFor } from '../adapters/index.js';
import type { ManifestIssue } from '../errors.js';
import type { Redactor } from '../exec/redact.js';
import { binaryKey } from '../exec/binary-key.js';
import { programOf } from '../exec/program.js';
import { childEnv, run } from '../exec/run.js';
import type { ResolvedPair, ToolName } from '../types.js';
import { rememberedVersion, rememberVersion } from './version-cache.js';

const versions = new Map<string, Promise<string | undefined>>();

/**
 * Undefined when the tool is missing or says no version: its first real command then reports why.
 * With `root` (the manifest's folder) an answer is remembered on disk for the binary it came from
 * (version-cache.ts), so the next run starts no process for it; the key is re-read on every call, so
 * a long `watch` also sees an upgrade.
 */
export function versionOf(tool: ToolName, redact: Redactor, root?: string): Promise<string | undefined> {
  const probe = adapterFor(tool)?.version();
  if (!probe) return Promise.resolve(undefined);
  const keys = probe.commands.map((c) => binaryKey(programOf(c.tool, childEnv(c)), childEnv(c), c.cwd));
  const key = keys.every((k) => k !== undefined) ? [tool, ...keys].join('\n\n') : undefined;
  const memo = key ?? `${tool}\0unkeyed`;
  let v = versions.get(memo);
  if (!v) {
    const known = key && root && probe.commands.length ? rememberedVersion(root, key) : undefined;
    v = known !== undefined
      ? Promise.resolve(known)
      : Promise.all(probe.commands.map((c) => run(c, { redact, timeoutMs: 15_000 }))).then(async (outs) => {
          const found = outs.every((o) => o.exitCode === 0) ? probe.parse(outs) : undefined;
          if (found && key && root && probe.commands.length) await rememberVersion(root, key, found);
          return found;
        });
    versions.set(memo, v);
  }
  return v;
}

/** The versions of the selected pairs' tools whose argv depends on them (adapter.versioned); no process for the others. */
export async function versionsFor(pairs: readonly ResolvedPair[], redact: Redactor): Promise<Partial<Record<ToolName, string>>> {
  const tools = [...new Set(pairs.map((p) => p.tool))].filter((t) => adapterFor(t).versioned);
  const found = await Promise.all(tools.map(async (t) => [t, await versionOf(t, redact, pairs.find((p) => p.tool === t)?.root)] as const));
  return Object.fromEntries(found.filter(([, v]) => v !== undefined));
}

/** Why this pair cannot run with the version found, with the way out; undefined when it can (or nothing was read). */
export function versionRefusal(pair: ResolvedPair, found: Partial<Record<ToolName, string>> | undefined): { error: string; hint: string } | undefined {
  const versioned = adapterFor(pair.tool).versioned;
  const version = found?.[pair.tool];
  if (!versioned || version === undefined) return undefined;
  const problems = versioned.problems(pair, version);
  return problems.length ? { error: problems.join('; '), hint: versioned.hint } : undefined;
}

/**
 * `validate` and `plan`: each pair that asks more of its tool than the version found can do, as a
 * manifest issue at the pair. Only pairs that would trouble the oldest version cost a version probe.
 */
export async function versionIssues(pairs: readonly ResolvedPair[], redact: Redactor): Promise<ManifestIssue[]> {
  const asking = pairs.filter((p) => (adapterFor(p.tool).versioned?.problems(p, '0.0.0').length ?? 0) > 0);
  if (!asking.length) return [];
  const found = await versionsFor(asking, redact);
  return asking.flatMap((pair) => {
    const refusal = versionRefusal(pair, found);
    return refusal ? [{ file: pair.source.file, line: pair.source.line, col: pair.source.col, pair: `${pair.category}.${pair.name}`, message: `${refusal.error}; ${refusal.hint}` }] : [];
  });
}

/** Forget the answers this process holds (a test's "next run"; the disk cache stays). */
export function forgetVersions(): void {
  versions.clear();
}
