// rsync over a real sshd on 127.0.0.1 (started once per run by the harness).
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import type { SshHost } from './harness/sshd.js';
import { json, Lab } from './harness/lab.js';

// null only off CI on a machine without sshd (global-setup fails a CI run instead): these cases then skip.
const ssh = inject('sshHost');

function sshManifest(host: SshHost, remoteDir: string, extra = ''): string {
  return `version: 1
defaults:
  retries: 0
remotes:
  gpu:
    type: ssh
    host: 127.0.0.1
    user: ${host.user}
    port: ${host.port}
    identity: ${host.identity}
    known_hosts: ${host.knownHosts}
    ssh_config: ${host.sshConfig}
    path: ${remoteDir}
models:
  - name: checkpoints
    local: models
    remote: "gpu:ckpt dir"
    delete: true
${extra}`;
}

// Without sshd (a machine that skipped `npm test`'s install step) these cannot run; CI always has it.
describe.skipIf(!ssh)('rsync over ssh', () => {
  const host = ssh as SshHost;

  it('pushes and pulls through ssh in BatchMode, names with spaces and a leading dash intact', async () => {
    const lab = new Lab();
    lab.manifest(sshManifest(host, lab.outside('gpu home')));
    lab.write(lab.path('models/epoch 1.ckpt'), 'weights-1');
    lab.write(lab.path('models/-dash.ckpt'), 'weights-2');
    const push = await lab.cli(['models', 'push', '--json']);
    expect(push.exitCode, push.stderr).toBe(0);
    const doc = json<{ pairs: { status: string; verify: { status: string; checked: number }; commands: string[] }[] }>(push);
    expect(doc.pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync', checked: 2 } });
    expect(doc.pairs[0]?.commands.join('\n')).toContain('BatchMode=yes');
    expect(lab.tree(lab.outside('gpu home', 'ckpt dir'))).toEqual({ 'epoch 1.ckpt': 'weights-1', '-dash.ckpt': 'weights-2' });

    lab.write(lab.outside('gpu home', 'ckpt dir', 'epoch 2.ckpt'), 'weights-3');
    const pull = await lab.cli(['models', 'pull']);
    expect(pull.exitCode, pull.stderr).toBe(0);
    expect(lab.tree(lab.path('models'))).toEqual({ 'epoch 1.ckpt': 'weights-1', '-dash.ckpt': 'weights-2', 'epoch 2.ckpt': 'weights-3' });
  });

  it('catches remote corruption by checksum on the host, without copying data back, and a push repairs it', async () => {
    const lab = new Lab();
    lab.manifest(sshManifest(host, lab.outside('remote')));
    lab.write(lab.path('models/a.ckpt'), 'AAAA');
    await lab.cli(['models', 'push']);
    const target = lab.outside('remote', 'ckpt dir', 'a.ckpt');
    const { mtime } = statSync(target);
    writeFileSync(target, 'AAAB');
    utimesSync(target, mtime, mtime);
    // Past the hash caches' racy window (1 s), so what check hashes now is remembered for the push.
    await new Promise((r) => setTimeout(r, 1100));
    const check = await lab.cli(['check', '--json']);
    expect(check.exitCode).toBe(4);
    expect(json<{ pairs: { verify: { changed: string[] } }[] }>(check).pairs[0]?.verify.changed).toEqual(['a.ckpt']);
    const r = await lab.cli(['models', 'push', '--json']);
    expect(r.exitCode).toBe(0);
    // check hashed it on the host: the push plans it as a replace by content, up front.
    expect(json<{ pairs: { changes: { replace: string[] }; files: number }[] }>(r).pairs[0]).toMatchObject({ files: 1, changes: { replace: ['a.ckpt'] } });
    expect(readFileSync(target, 'utf8')).toBe('AAAA');
  });

  it('fails fast and clearly on a refused key, without retrying (exit 1)', async () => {
    const lab = new Lab();
    const wrongKey = lab.outside('wrong_key');
    const { execFileSync } = await import('node:child_process');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    lab.manifest(sshManifest({ ...host, identity: wrongKey }, lab.outside('remote')).replace('retries: 0', 'retries: 3'));
    lab.write(lab.path('models/a.ckpt'), 'A');
    const r = await lab.cli(['models', 'push', '--json']);
    expect(r.exitCode).toBe(1);
    const pair = json<{ pairs: { status: string; attempts: number; error: string }[] }>(r).pairs[0];
    expect(pair).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/^ssh refused: .*Permission denied \(publickey/) });
    // The first command to reach the host names itself: the listing over ssh.
    expect(pair?.error).toMatch(/— ssh -o BatchMode=yes/);
  });

  it('retries a host that is down with backoff, then fails (exit 1), deleting nothing', async () => {
    const lab = new Lab();
    lab.manifest(sshManifest({ ...host, port: 1 }, lab.outside('remote')).replace('retries: 0', 'retries: 2\n  retry_delay: 100ms'));
    lab.write(lab.path('models/a.ckpt'), 'A');
    const r = await lab.cli(['models', 'push', '--json']);
    expect(r.exitCode).toBe(1);
    expect(json<{ pairs: { status: string; attempts: number; error: string }[] }>(r).pairs[0]).toMatchObject({
      status: 'failed', attempts: 3, error: expect.stringContaining('Connection refused'),
    });
    expect(r.stderr.match(/attempt \d failed/g)).toHaveLength(2);
    expect(lab.tree(lab.path('models'))).toEqual({ 'a.ckpt': 'A' });
  });
});
