// `labsync demo` keeps to its own world: the user's git config, dvc's site cache and labsync's manifest
// cache are neither used nor left with anything, and its temporary folder goes when it ends.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { until } from './harness/wait.js';
import { withTools } from './harness/tools.js';
import { which } from '../src/exec/which.js';

const missing = (await Promise.all(['rsync', 'rclone', 'git', 'dvc'].map(async (t) => ((await which(t, withTools(process.env.PATH))) ? undefined : t)))).filter(Boolean);

// Missing tools skip with the reason: scripts/ensure-tools.sh demo installs them (CI runs it first).
describe.skipIf(missing.length > 0)(`labsync demo (needs ${missing.join(', ') || 'rsync, rclone, git, dvc: present'})`, () => {
  it('runs with a git config that signs every commit, and leaves no temporary folder, dvc site cache or manifest cache behind', async () => {
    const lab = new Lab();
    writeFileSync(lab.outside('home/.gitconfig'), '[user]\n\tname = someone\n\temail = s@example.invalid\n[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = /bin/false\n');
    const tmp = lab.outside('tmp');
    mkdirSync(tmp);
    const cache = lab.outside('cache');
    // A dvc global config whose cache is on a shared disk: the demo's files must not land there.
    const shared = lab.outside('shared-dvc-cache');
    mkdirSync(shared);
    mkdirSync(lab.outside('dvc-global'));
    writeFileSync(lab.outside('dvc-global/config'), `[cache]\n    dir = ${shared}\n`);
    const r = await lab.cli(['demo'], { env: { TMPDIR: tmp, XDG_CACHE_HOME: cache, GIT_CONFIG_GLOBAL: lab.outside('home/.gitconfig'), DVC_GLOBAL_CONFIG_DIR: lab.outside('dvc-global') } });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('demo: every step did what it should');
    expect(readdirSync(tmp)).toEqual([]);
    expect(readdirSync(shared)).toEqual([]);
    expect(existsSync(cache) ? readdirSync(`${cache}/labsync`).filter((n) => n.startsWith('manifest-')) : []).toEqual([]);
  }, 180_000);

  it('stopped while it builds its lab (before any step traps signals): exit 130, its temporary folder removed', async () => {
    const lab = new Lab();
    const tmp = lab.outside('tmp');
    mkdirSync(tmp);
    const run = lab.spawn(['demo'], { env: { TMPDIR: tmp } });
    await until('the demo made its folder', () => readdirSync(tmp).some((n) => n.startsWith('labsync-demo-')), 30_000);
    run.kill('SIGTERM');
    const r = await run;
    expect(r.exitCode, `${String(r.stdout)}\n${String(r.stderr)}`).toBe(130);
    expect(readdirSync(tmp)).toEqual([]);
  }, 60_000);
});
