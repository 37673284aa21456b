// `labsync init`: a starter manifest and the AI-project ignore files. Never clobbers; merges missing lines.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabsyncError, type ExitCode } from '../errors.js';
import { MANIFEST_NAMES } from '../manifest/find.js';
import { DVCIGNORE_LINES, GITIGNORE_LINES, missingLines } from './ai-ignores.js';
import type { GlobalOptions } from './context.js';
import { STARTER_MANIFEST } from './init-template.js';

function mergeLines(file: string, wanted: readonly string[]): string {
  let existing: string;
  try {
    existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  } catch (error) {
    throw new LabsyncError(`${file}: cannot read it to merge the missing lines (${(error as Error).message})`);
  }
  const add = missingLines(existing, wanted);
  if (!add.length) return 'up to date';
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
  writeFileSync(file, `${existing}${sep}${existing ? '\n# added by labsync init\n' : ''}${add.join('\n')}\n`);
  return existing ? `added ${add.filter((l) => !l.startsWith('#')).length} entries` : 'created';
}

export async function initCommand(opts: GlobalOptions, cwd = process.cwd()): Promise<ExitCode> {
  const target = opts.config ? join(cwd, opts.config) : join(cwd, MANIFEST_NAMES[0]);
  const already = [target, ...MANIFEST_NAMES.map((n) => join(cwd, n))].find((f) => existsSync(f));
  const results: [string, string][] = [];
  if (already) results.push([already, 'exists, left as it is']);
  else {
    writeFileSync(target, STARTER_MANIFEST, { flag: 'wx' });
    results.push([target, 'created']);
  }
  results.push([join(cwd, '.gitignore'), mergeLines(join(cwd, '.gitignore'), GITIGNORE_LINES)]);
  results.push([join(cwd, '.dvcignore'), mergeLines(join(cwd, '.dvcignore'), DVCIGNORE_LINES)]);
  if (opts.json) process.stdout.write(`${JSON.stringify({ command: 'init', ok: true, files: Object.fromEntries(results) }, null, 2)}\n`);
  else if (!opts.quiet) {
    for (const [file, what] of results) process.stdout.write(`${file}: ${what}\n`);
    process.stdout.write('next: edit labsync.yaml, then `labsync validate` and `labsync plan`\n');
  }
  return 0;
}
