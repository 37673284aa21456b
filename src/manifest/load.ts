// find → parse (positions kept) → expand ${VAR} → schema → rules → resolve. Every issue at once.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { ManifestError, type ManifestIssue } from '../errors.js';
import { makeRedactor } from '../exec/redact.js';
import { CATEGORIES, type Manifest, type ResolvedPair } from '../types.js';
import { expandEnv } from './expand.js';
import { issueAt, zodIssues } from './issues.js';
import { DEFAULTS, resolvePair } from './resolve.js';
import { checkRules, ruleInput } from './rules.js';
import { nestedUncovered, overlapOf } from './nested-pairs.js';
import { schemas } from './schema.js';
import { locate, parseYaml } from './yaml-doc.js';

/** How the manifest is named in messages: relative to the working folder when inside it. */
export function displayName(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** `cwd`: what names in messages are relative to. */
export function loadManifestText(text: string, file: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Manifest {
  const display = displayName(file, cwd);
  const { parsed, issues } = parseYaml(text, display);
  if (!parsed) throw new ManifestError(issues);

  const expanded = expandEnv(parsed.value, env);
  const all: ManifestIssue[] = [
    ...issues,
    ...expanded.missing.map((m) => issueAt(parsed, m.path, `environment variable ${m.name} is not set (give a default with \${${m.name}:-value})`)),
  ];
  const result = schemas().manifestSchema.safeParse(expanded.value);
  if (!result.success) all.push(...zodIssues(parsed, expanded.value, result.error, makeRedactor(env)));
  all.push(...checkRules(parsed, ruleInput(expanded.value)));
  if (all.length || !result.success) throw new ManifestError(all.sort((a, b) => a.line - b.line || a.col - b.col));

  const raw = result.data;
  const root = dirname(file);
  const pairs: ResolvedPair[] = [];
  for (const category of CATEGORIES) {
    for (const [index, pair] of (raw[category] ?? []).entries()) {
      const { line, col } = locate(parsed, [category, index]);
      pairs.push(resolvePair(pair, category, raw.defaults ?? {}, raw.remotes ?? {}, root, { file: display, path: resolve(file), line, col }));
    }
  }
  const overlaps = pairs.flatMap((p) => {
    const why = overlapOf(p);
    return why ? [issueAt(parsed, [p.category, pairs.filter((q) => q.category === p.category).indexOf(p), 'remote'], why)] : [];
  });
  if (overlaps.length) throw new ManifestError(overlaps);
  const nested = nestedUncovered(pairs);
  const withNested = nested.size ? pairs.map((p) => (nested.has(p) ? { ...p, nestedPairs: nested.get(p) as string[] } : p)) : pairs;
  return { file, root, concurrency: raw.defaults?.concurrency ?? DEFAULTS.concurrency, pairs: withNested };
}

export function loadManifest(file: string, env: NodeJS.ProcessEnv = process.env): Manifest {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new ManifestError([{ file: displayName(file), line: 1, col: 1, message: `cannot read: ${(error as Error).message}` }]);
  }
  return loadManifestText(manifestText(bytes, displayName(file)), file, env);
}

/**
 * The manifest's bytes as text, which must be UTF-8: a latin1 `données` decoded leniently became a
 * folder named `donn\uFFFDes` that a pull then made. Said with the line and column of the first bad byte.
 */
export function manifestText(bytes: Buffer, display: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Where the lenient decoding first put a replacement character: the first bad byte.
    const lenient = bytes.toString('utf8');
    const lines = lenient.slice(0, Math.max(0, lenient.indexOf('\uFFFD'))).split('\n');
    throw new ManifestError([{ file: display, line: lines.length, col: (lines.at(-1)?.length ?? 0) + 1, message: 'not UTF-8 text: save the manifest as UTF-8' }]);
  }
}
