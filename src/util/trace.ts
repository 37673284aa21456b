// LABSYNC_TRACE=1: the milliseconds since node started at named points of a run (spawns, listings,
// writes, exit), with this process's CPU time (user+sys) by then, on stderr when the process exits.
// For measuring the critical path of a run; off, each mark costs one comparison.
const on = process.env.LABSYNC_TRACE === '1';
const marks: string[] = [];

const at = (): string => {
  const cpu = process.cpuUsage();
  return `${performance.now().toFixed(1)} (cpu ${((cpu.user + cpu.system) / 1000).toFixed(1)})`;
};

export function mark(label: string): void {
  if (!on) return;
  if (!marks.length) process.once('exit', () => process.stderr.write(`${[...marks, `${at()} exit`].join('\n')}\n`));
  marks.push(`${at()} ${label}`);
}
