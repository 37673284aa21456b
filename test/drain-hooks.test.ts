// A drain's hooks and pings end with its budget (a spot host is gone at the end of its notice, and the
// receipt is written after them): a review saw an on_failure hook carry a 4 s drain to 10.6 s. Real
// rsync to a local folder slowed by bwlimit; the hook is a shell that would sleep far past the budget;
// a ping URL on 127.0.0.1 that never answers. Nothing is timed: the hook's process must be gone, its
// last line never run, and the run's receipt written.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { processesLeft } from './harness/processes.js';

type Doc = { pairs: { status: string; warnings: string[] }[] };
const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** An HTTP server on 127.0.0.1 that takes requests and never answers them. */
async function silent(): Promise<string> {
  const server = createServer(() => undefined);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`;
}

describe('a drain whose budget ends', () => {
  it('stops its on_failure hook and its failure ping at the budget\'s end, says so, and writes its receipt', async () => {
    const lab = new Lab();
    const tag = `labsync-drain-hook-${process.pid}-${Date.now()}`;
    const url = await silent();
    lab.manifest(`version: 1
defaults:
  retries: 0
data:
  - name: ckpt
    local: ckpt
    remote: "file://${lab.outside('far')}"
    tags: [drain]
    bwlimit: 10K
    hooks:
      on_failure: [sh, -c, "echo started > ${lab.outside('hook-started')}; sleep 60 # ${tag}\\necho done > ${lab.outside('hook-done')}"]
    notify:
      failure: ${url}
`);
    for (let i = 0; i < 6; i++) lab.write(lab.path('ckpt', `f${i}.bin`), randomBytes(30_000));
    const r = await lab.cli(['drain', '--budget', '5s', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(5);
    const pair = json<Doc>(r).pairs[0];
    expect(pair?.status).toBe('partial');
    expect(pair?.warnings).toEqual(['on_failure hook stopped at the end of the drain\'s budget']);
    expect(r.stderr).toMatch(/health ping to http:\/\/127\.0\.0\.1:\d+\/… failed \(not answered before the drain's budget ended\)/);
    expect(existsSync(lab.outside('hook-started'))).toBe(true);
    expect(existsSync(lab.outside('hook-done'))).toBe(false);
    expect(processesLeft(tag)).toEqual([]);
    expect(readdirSync(lab.path('.labsync', 'receipts')).length).toBe(1);
  }, 60_000);
});
