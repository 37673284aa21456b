// `labsync check --sums FILE [--dir DIR]`: like `sha256sum -c`, exit 4 on any mismatch or missing file.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { hashMany } from '../verify/hash-pool.js';
import { parseSums, reportName } from '../verify/sums-file.js';
import type { GlobalOptions } from './context.js';

export async function checkSumsCommand(file: string, dir: string | undefined, opts: GlobalOptions): Promise<ExitCode> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8'); // "-": the list on standard input, as sha256sum -c - reads it
  } catch (error) {
    throw new UsageError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const { entries, bad } = parseSums(text);
  if (!entries.length) throw new UsageError(`${file}: no checksum lines found (expected "HASH  NAME" as sha256sum prints, or "SHA256 (NAME) = HASH" as --tag prints)`);
  const base = resolve(dir ?? '.');
  const results = await hashMany(entries.map((e) => ({ path: resolve(base, e.name), sha256: e.algo === 'sha256', md5: e.algo === 'md5' })));
  const files = entries.map((e, i) => {
    const r = results[i];
    const status = !r?.ok ? 'missing' : r.digests[e.algo] === e.hex ? 'ok' : 'failed';
    return { path: e.name, line: e.line, status, ...(r && !r.ok ? { error: r.error } : {}) };
  });
  const failed = files.filter((f) => f.status === 'failed').length;
  const missing = files.filter((f) => f.status === 'missing').length;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ command: 'check --sums', ok: !failed && !missing, file, badLines: bad, files }, null, 2)}\n`);
  } else {
    for (const f of files) {
      const verdict = f.status === 'ok' ? 'OK' : f.status === 'failed' ? 'FAILED' : 'FAILED open or read';
      if (!(opts.quiet && f.status === 'ok')) process.stdout.write(`${reportName(f.path)}: ${verdict}\n`);
    }
    const s = (n: number): string => (n === 1 ? '' : 's');
    if (bad.length) process.stderr.write(`labsync: WARNING: ${bad.length} line${s(bad.length)} improperly formatted (line ${bad.join(', ')})\n`);
    if (missing) process.stderr.write(`labsync: WARNING: ${missing} listed file${s(missing)} could not be read\n`);
    if (failed) process.stderr.write(`labsync: WARNING: ${failed} computed checksum${s(failed)} did NOT match\n`);
  }
  return failed || missing ? EXIT.drift : EXIT.ok;
}
