// LABSYNC_TRACE=1: the milliseconds since node started at named points of a run (spawns, listings,
// writes, exit), on stderr when the process exits. For measuring the critical path of a run; off,
// each mark costs one comparison.
const on = process.env.LABSYNC_TRACE === '1';
const marks: string[] = [];

export function mark(label: string): void {
  if (!on) return;
  if (!marks.length) process.once('exit', () => process.stderr.write(`${[...marks, `${performance.now().toFixed(1)} exit`].join('\n')}\n`));
  marks.push(`${performance.now().toFixed(1)} ${label}`);
}
