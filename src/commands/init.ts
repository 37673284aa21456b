// `labsync init`: a starter manifest and the AI-project ignore files. Never clobbers; merges missing lines.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LabsyncError, type ExitCode } from '../errors.js';
import { MANIFEST_NAMES } from '../manifest/find.js';
import { DVCIGNORE_LINES, GITIGNORE_LINES, missingLines } from './ai-ignores.js';
import type { GlobalOptions } from './context.js';
import { STARTER_MANIFEST } from './init-template.js';

/**
 * The lines `wanted` that `file` lacks, appended (never the file rewritten: a kill or a full disk mid-write
 * would lose the user's lines, and bytes that are not UTF-8 would come back changed). Read as latin1:
 * every byte kept as it is, and the wanted lines are ASCII. `dryRun`: only said.
 */
function mergeLines(file: string, wanted: readonly string[], dryRun: boolean): string {
  let existing: string;
  try {
    existing = existsSync(file) ? readFileSync(file, 'latin1') : '';
  } catch (error) {
    throw new LabsyncError(`${file}: cannot read it to merge the missing lines (${(error as Error).message})`);
  }
  const add = missingLines(existing, wanted);
  if (!add.length) return 'up to date';
  const what = existing ? `${dryRun ? 'would add' : 'added'} ${add.filter((l) => !l.startsWith('#')).length} entries` : dryRun ? 'would be created' : 'created';
  if (dryRun) return what;
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
  try {
    appendFileSync(file, `${sep}${existing ? '\n# added by labsync init\n' : ''}${add.join('\n')}\n`);
  } catch (error) {
    throw new LabsyncError(`${file}: cannot add the missing lines (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return what;
}

export async function initCommand(opts: GlobalOptions, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  // Where the other commands will look for it: -c (absolute or relative), else $LABSYNC_CONFIG, else here.
  const given = opts.config ?? (env.LABSYNC_CONFIG || undefined);
  const target = resolve(cwd, given ?? MANIFEST_NAMES[0]);
  const folder = dirname(target);
  // Only a named file is looked for as given; without one, either name in the folder counts.
  const candidates = given ? [target] : MANIFEST_NAMES.map((n) => join(folder, n));
  const already = candidates.find((f) => existsSync(f));
  const dryRun = Boolean(opts.dryRun);
  const results: [string, string][] = [];
  if (already && statSync(already).isDirectory()) throw new LabsyncError(`${already} is a folder, not a manifest; nothing was written`);
  if (already) results.push([already, 'exists, left as it is']);
  else if (dryRun) results.push([target, 'would be created']);
  else {
    try {
      writeFileSync(target, STARTER_MANIFEST, { flag: 'wx' });
    } catch (error) {
      throw new LabsyncError(`${target}: cannot write the starter manifest (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    results.push([target, 'created']);
  }
  // Beside the manifest: its folder is the project the ignore files are for. A folder the rules would
  // hide that already holds tracked files (a models/ of .py files, a src/runs/ package) keeps its rules
  // out: new files there would be ignored without a word.
  const held = heldRules(folder, GITIGNORE_LINES);
  const gitLines = GITIGNORE_LINES.filter((l) => !held.some((h) => h.lines.includes(l)));
  results.push([join(folder, '.gitignore'), mergeLines(join(folder, '.gitignore'), gitLines, dryRun)]);
  const notes = held.map((h) => `${join(folder, '.gitignore')}: no rule ${h.lines[0] as string} added: git tracks ${h.example} (and any like it), and new ones there would be ignored`);
  results.push([join(folder, '.dvcignore'), mergeLines(join(folder, '.dvcignore'), DVCIGNORE_LINES, dryRun)]);
  if (opts.json) process.stdout.write(`${JSON.stringify({ command: 'init', ok: true, files: Object.fromEntries(results), ...(notes.length ? { notes } : {}) }, null, 2)}\n`);
  else if (!opts.quiet) {
    for (const [file, what] of results) process.stdout.write(`${file}: ${what}\n`);
    for (const note of notes) process.stdout.write(`${note}\n`);
    process.stdout.write('next: edit labsync.yaml, then `labsync validate` and `labsync plan`\n');
  }
  return 0;
}

/**
 * The starter's rules that would hide files git already tracks (a models/ of .py files, a tracked
 * test fixture.pt): each rule with the `!` exceptions after it, asked of git itself (`ls-files -i`,
 * which applies them as .gitignore would). A git that cannot answer keeps every rule out.
 */
function heldRules(folder: string, lines: readonly string[]): { lines: string[]; example: string }[] {
  const groups: string[][] = [];
  for (const l of lines) {
    if (!l || l.startsWith('#')) continue;
    if (l.startsWith('!') && groups.length) (groups.at(-1) as string[]).push(l);
    else groups.push([l]);
  }
  const inRepo = spawnSync('git', ['rev-parse', '--show-prefix'], { cwd: folder, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (inRepo.status !== 0) return [];
  // Command-line patterns anchor at the repository's top; the .gitignore's, at this folder.
  // Only the line's end trimmed (a folder may begin with a space), its glob characters taken literally.
  const prefix = inRepo.stdout.replace(/\n$/, '').replace(/[\\*?[\]]/g, '\\$&');
  const anchored = (l: string): string => l.replace(/^(!?)\//, (_m, bang: string) => `${bang}/${prefix}`);
  const held: { lines: string[]; example: string }[] = [];
  for (const group of groups) {
    // Only whether any matched: past the buffer (ENOBUFS) there were many.
    const r = spawnSync('git', ['ls-files', '-z', '--cached', '--ignored', ...group.map((l) => `--exclude=${anchored(l)}`)], { cwd: folder, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 20 });
    const first = r.stdout?.split('\0')[0];
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOBUFS' || r.status !== 0) held.push({ lines: group, example: first || 'files' });
    else if (first) held.push({ lines: group, example: first });
  }
  return held;
}
