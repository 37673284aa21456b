// doctor on an rclone older than 1.63, which writes files under their final names as they arrive: a
// stopped pull left cut-off files there (review 42). The rclone here is a script that only answers
// `rclone version` as that release does: doctor reads the version, nothing is transferred.
import { chmodSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';

describe('doctor and an rclone without partial files', () => {
  it.each([['v1.60.1', true], ['v1.75.2', false]] as const)('rclone %s: warned about (%s) for a pull into a local folder', async (version, warned) => {
    const lab = new Lab();
    lab.manifest(`version: 1\nremotes:\n  nas: { type: local, path: ../nas }\n  box: { type: rclone, remote: box }\ndata:\n  - { name: raw, tool: rclone, local: raw, remote: "nas:raw", mode: pull }\n  - { name: up, tool: rclone, local: up, remote: "s3://bucket/up" }\n  - { name: sftp, local: out, remote: "box:out" }\n`);
    const fake = lab.outside('rclone');
    lab.write(fake, `#!/bin/sh\necho "rclone ${version}"\necho "- os/version: debian 12"\n`);
    chmodSync(fake, 0o755);
    // box is an sftp remote defined in the environment, as rclone reads it (review 46: only the manifest's own config was looked at).
    const r = await lab.cli(['doctor'], { env: { LABSYNC_RCLONE: fake, RCLONE_CONFIG_BOX_TYPE: 'sftp', RCLONE_CONFIG_BOX_HOST: '127.0.0.1' } });
    const said = /rclone [\d.]+ writes files under their final names as they arrive .*: a stopped transfer of raw, sftp can leave cut-off files there/;
    if (warned) expect(r.stdout).toMatch(said);
    else expect(r.stdout).not.toMatch(/writes files under their final names/);
  });
});
