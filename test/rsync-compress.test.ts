// compress: true over a slow link (a rate-limited relay in front of the loopback sshd): compressible
// data crosses in fewer bytes, so in less time at the link's rate; model formats cross uncompressed.
// Bytes are counted by the relay, never timed.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SshHost } from './harness/sshd.js';
import { json, Lab } from './harness/lab.js';
import { startRelay, type Relay } from './harness/relay.js';

const ssh = inject('sshHost');
const MiB = 1024 * 1024;

/** Numbers as CSV text: compressible (digits and commas), but not trivially so. */
function csv(bytes: number): string {
  const lines: string[] = [];
  let x = 12345;
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const line = `${i},${(x / 2147483648).toFixed(6)},${x % 1000},label_${x % 7}\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join('');
}

/** Random bytes: what float weights look like to a compressor. */
function noise(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = 987654321;
  for (let i = 0; i < bytes; i += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

describe.skipIf(!ssh)('rsync compress over a slow ssh link', () => {
  const host = ssh as SshHost;
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay(host.port, 8 * MiB);
  });
  afterAll(() => relay.close());

  function lab(compress: boolean): Lab {
    const l = new Lab();
    // The relay's port is a host of its own to ssh: the sshd's key, listed under that port.
    const key = readFileSync(host.knownHosts, 'utf8').split(' ').slice(1).join(' ');
    l.write(l.outside('known_hosts'), `[127.0.0.1]:${relay.port} ${key}`);
    l.manifest(`version: 1
defaults:
  retries: 0
remotes:
  slow: { type: ssh, host: 127.0.0.1, user: ${host.user}, port: ${relay.port}, identity: ${host.identity}, known_hosts: ${l.outside('known_hosts')}, ssh_config: ${host.sshConfig}, path: ${l.outside('far')} }
data:
  - name: d
    local: d
    remote: slow:d
    compress: ${compress}
`);
    return l;
  }

  async function push(l: Lab): Promise<{ up: number; commands: string[] }> {
    const before = relay.bytes.up;
    const r = await l.cli(['data', 'push', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const pair = json<{ pairs: { status: string; commands: string[]; verify: { status: string } }[] }>(r).pairs[0];
    expect(pair).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    return { up: relay.bytes.up - before, commands: pair?.commands ?? [] };
  }

  it('sends compressible data in far fewer bytes with compress: true, zstd chosen as both ends offer it', async () => {
    const text = csv(4 * MiB);
    const off = lab(false);
    off.write(off.path('d/table.csv'), text);
    const on = lab(true);
    on.write(on.path('d/table.csv'), text);
    const sentOff = await push(off);
    const sentOn = await push(on);
    // Uncompressed, every byte crosses; compressed, less than half do: at the link's fixed rate that is
    // less than half the time.
    expect(sentOff.up).toBeGreaterThan(text.length);
    expect(sentOn.up).toBeLessThan(sentOff.up / 2);
    const transfer = sentOn.commands.find((c) => c.includes('--files-from')) ?? '';
    expect(transfer).toContain('--compress');
    expect(transfer).toContain('--compress-choice=zstd');
    expect(sentOff.commands.join('\n')).not.toContain('--compress');
    expect(on.tree(on.outside('far', 'd'))['table.csv']).toBe(text);
  });

  it('sends model weights uncompressed in a call of their own: bytes on the wire about the file size', async () => {
    const weights = noise(3 * MiB);
    const l = lab(true);
    l.write(l.path('d/model.safetensors'), weights);
    l.write(l.path('d/notes.txt'), 'x'.repeat(10_000));
    const sent = await push(l);
    const uncompressed = sent.commands.find((c) => c.includes('(uncompressed)') || (c.includes('--files-from') && !c.includes('--compress'))) ?? '';
    expect(uncompressed, sent.commands.join('\n')).not.toBe('');
    expect(sent.commands.filter((c) => c.includes('--files-from'))).toHaveLength(2);
    // The weights cross once, at their size (plus ssh's framing and the small listings): not squeezed, not doubled.
    expect(sent.up).toBeGreaterThan(weights.length);
    expect(sent.up).toBeLessThan(weights.length * 1.05);
    expect(readFileSync(l.outside('far', 'd', 'model.safetensors')).equals(weights)).toBe(true);
  });

  it('fails within bounded time when the host is down, naming the host', async () => {
    const l = lab(true);
    l.write(l.path('d/a.csv'), 'a,b\n');
    l.manifest(readFileSync(l.path('labsync.yaml'), 'utf8').replace(`port: ${relay.port}`, 'port: 1'));
    const r = await l.cli(['data', 'push', '--json']);
    expect(r.exitCode).toBe(1);
    expect(json<{ pairs: { status: string; error: string }[] }>(r).pairs[0]).toMatchObject({ status: 'failed' });
    expect(json<{ pairs: { error: string }[] }>(r).pairs[0]?.error).toMatch(/127\.0\.0\.1/);
  });
});
