// `labsync receipts [NAME...]`: the receipts in .labsync/receipts, oldest first, one line each.
import { UsageError, type ExitCode } from '../errors.js';
import { selectPairs } from '../engine/select.js';
import { readReceipts } from '../state/shard-runs.js';
import { formatBytes } from '../util/duration.js';
import { chalkFor, openManifest, type GlobalOptions } from './context.js';

export async function receiptsCommand(opts: GlobalOptions, names: readonly string[]): Promise<ExitCode> {
  const manifest = openManifest(opts);
  const all = await readReceipts(manifest.root);
  // A pair removed from the manifest still has its receipts; a name known to neither is a typo.
  const known = new Set([...manifest.pairs.map((p) => p.name), ...all.map((r) => r.pair)]);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new UsageError(`no pair named ${unknown.map((n) => `'${n}'`).join(', ')} in ${manifest.file} and no receipts for it`);
  if (opts.tag) selectPairs(manifest, { names: names.filter((n) => manifest.pairs.some((p) => p.name === n)), tag: opts.tag });
  const rows = all.filter((r) => (!opts.tag || manifest.pairs.some((p) => p.name === r.pair && p.tags.includes(opts.tag as string))) && (!names.length || names.includes(r.pair)));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ command: 'receipts', receipts: rows }, null, 2)}\n`);
    return 0;
  }
  if (opts.quiet) return 0;
  if (!rows.length) {
    process.stdout.write('no receipts yet\n');
    return 0;
  }
  const chalk = await chalkFor(opts);
  const head = ['TIME', 'PAIR', 'ACTION', 'SHARD', 'RESULT', 'FILES', 'BYTES', 'RUN'];
  const table = rows.map((r) => [
    r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), `${r.category}.${r.pair}`, r.action,
    r.shard ? `${r.shard.index}/${r.shard.count}` : '-', r.status, String(r.files), formatBytes(r.bytes),
    r.shard ? (r.shard.run ?? 'unlisted').slice(0, 12) : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  process.stdout.write(`${chalk.dim(line(head))}\n`);
  for (const row of table) process.stdout.write(`${line(row)}\n`);
  return 0;
}
