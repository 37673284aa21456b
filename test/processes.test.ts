// harness/processes.ts's exited(): what the harness awaits before a server's folder goes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exited, killExact, processesMentioning } from './harness/processes.js';

/** A shell loop named by a marker of its own in its command line; `ignoreTerm`: it outlives SIGTERM. */
async function loop(ignoreTerm: boolean): Promise<{ pid: number; marker: string }> {
  const marker = `exited-test-${randomBytes(4).toString('hex')}`;
  const script = `${ignoreTerm ? 'trap "" TERM; ' : ''}echo ready; while :; do sleep 0.05; done`;
  const child = spawn('sh', ['-c', script, marker], { stdio: ['ignore', 'pipe', 'ignore'] });
  // Its trap is set once it says so: a SIGTERM before that would end it.
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return { pid: child.pid as number, marker };
}
/** Whether the loop itself still runs (not the subshells it forks for each sleep). */
const running = (p: { pid: number; marker: string }): boolean => processesMentioning(p.marker).some((q) => q.pid === p.pid);

describe('exited', () => {
  it('resolves once a signalled process has ended', async () => {
    const p = await loop(false);
    expect(running(p)).toBe(true);
    killExact(p.pid, p.marker);
    await exited(p.pid, p.marker);
    expect(running(p)).toBe(false);
  });

  it('kills (SIGKILL) one that outlives its bound', async () => {
    const p = await loop(true);
    killExact(p.pid, p.marker);
    await new Promise((r) => setTimeout(r, 100));
    expect(running(p)).toBe(true); // SIGTERM did not end it
    await exited(p.pid, p.marker, 200);
    expect(running(p)).toBe(false);
  });

  it('leaves a process that is not the one meant (its pid reused by another command) alone', async () => {
    const p = await loop(false);
    await exited(p.pid, 'not-its-command-line', 200);
    expect(running(p)).toBe(true);
    killExact(p.pid, p.marker);
    await exited(p.pid, p.marker);
    expect(running(p)).toBe(false);
  });
});
