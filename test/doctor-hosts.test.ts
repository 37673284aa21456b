// `doctor` on ssh hosts without GNU find or sha256sum (issue 12: "saying so once in doctor"): one
// line per host, however many pairs use it, and the line says what labsync does instead.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { hostWithout } from './harness/bare-host.js';
import { sshdAvailable, sshRemote, startSshd, stopSshd, type SshHost } from './harness/sshd.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();

describe.skipIf(!sshdAvailable())('doctor: what an ssh host lacks, said once per host', () => {
  const hosts: SshHost[] = [];
  let noFind: SshHost;
  let noSum: SshHost;
  beforeAll(async () => {
    const a = hostWithout(tempDir('labsync-bare-host-'), ['find', 'sha256sum']);
    noFind = await startSshd(join(a.dir, 'sshd'), [`SetEnv PATH=${a.bin}`]);
    const b = hostWithout(tempDir('labsync-bare-host-'), ['sha256sum']);
    noSum = await startSshd(join(b.dir, 'sshd'), [`SetEnv PATH=${b.bin}`]);
    hosts.push(noFind, noSum);
  });
  afterAll(() => hosts.forEach(stopSshd));

  /** Two rsync pairs on `twice` (under two remote names), and one on `once` where given. */
  const manifest = (lab: Lab, twice: SshHost, once?: SshHost): string => `version: 1
remotes:
  gpu: ${sshRemote(twice, lab.outside('gpu'))}
  gpu2: ${sshRemote(twice, lab.outside('gpu2'))}
${once ? `  other: ${sshRemote(once, lab.outside('other'))}\n` : ''}data:
  - name: raw
    local: raw
    remote: "gpu:raw"
  - name: models
    local: models
    remote: "gpu2:models"
${once ? '  - name: more\n    local: more\n    remote: "other:more"\n' : ''}`;

  it('two pairs on one host without GNU find: the line once', async () => {
    const lab = new Lab();
    lab.manifest(manifest(lab, noFind));
    const r = await lab.cli(['doctor']);
    expect(r.stdout.match(/has no GNU find/g), r.stdout).toHaveLength(1);
    expect(r.stdout).toContain("has no GNU find: labsync lists it with rsync's dry run, and verifies with rsync -c (slower)");
    // A host without find lacks sha256sum here too: only the find line, which already says rsync -c.
    expect(r.stdout).not.toContain('sha256sum');
    const j = json<{ hosts: string[] }>(await lab.cli(['doctor', '--json']));
    expect(j.hosts).toEqual([`${noFind.user}@127.0.0.1 has no GNU find: labsync lists it with rsync's dry run, and verifies with rsync -c (slower)`]);
  });

  it('a host without sha256sum: its own line, once, beside the no-find host\'s', async () => {
    const lab = new Lab();
    lab.manifest(manifest(lab, noFind, noSum));
    const r = await lab.cli(['doctor']);
    expect(r.stdout.match(/has no GNU find/g), r.stdout).toHaveLength(1);
    expect(r.stdout.match(/has no GNU sha256sum\/stat/g), r.stdout).toHaveLength(1);
    expect(r.stdout).toContain(`${noSum.user}@127.0.0.1 has no GNU sha256sum/stat: labsync verifies it with rsync -c, reading every byte on both sides`);
    // Not a failure of doctor: labsync still works there, only slower.
    expect(r.exitCode).toBe(0);
  });
});
