// scripts/ensure-tools.sh puts the Python tools (dvc, …) in venvs of their own and never changes the
// machine's Python: run for real with dvc missing from PATH, as root and as another user.
import { execa } from 'execa';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { which } from '../src/exec/which.js';
import { pythonOf, REPO, TOOLS_BIN } from './harness/tools.js';
import { until } from './harness/wait.js';

const SCRIPT = join(REPO, 'scripts', 'ensure-tools.sh');
const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'labsync-tools-'));
  temps.push(dir);
  return dir;
}

/** A bin folder holding links to just `programs` (from this PATH, tools folder left out): dvc is never among them. */
async function binWith(dir: string, programs: readonly string[]): Promise<string> {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const path = (process.env.PATH ?? '').split(':').filter((d) => d !== TOOLS_BIN).join(':');
  for (const p of programs) {
    const found = await which(p, path);
    if (!found) throw new Error(`${p} is not on PATH: run the tests through \`npm test\`, which installs it`);
    symlinkSync(found, join(bin, p));
  }
  return bin;
}

const freeze = async (python: string): Promise<string> => String((await execa(python, ['-m', 'pip', 'freeze', '--all'])).stdout);

describe('ensure-tools.sh', () => {
  it('as root, installs a missing dvc into a venv under .tools and leaves the machine\'s Python as it was', async () => {
    const dir = tempDir();
    // The python3 and pip the script sees stand in for the machine's (a venv thrown away after, seeing the
    // machine's packages): a pip into "the system" lands there, where the test sees it, and harms nothing.
    // Its bin folder itself goes on PATH: a python3 linked from elsewhere would not find its pyvenv.cfg
    // and would be the machine's Python.
    const standInBin = join(dir, 'machine-python', 'bin');
    await execa('python3', ['-m', 'venv', '--without-pip', '--system-site-packages', join(dir, 'machine-python')]);
    for (const p of ['pip', 'pip3']) writeFileSync(join(standInBin, p), `#!/bin/sh\nexec ${join(standInBin, 'python3')} -m pip "$@"\n`, { mode: 0o755 });
    const bin = await binWith(dir, ['aws', 'moto_server']);
    const env = { ...process.env, PATH: `${standInBin}:${bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin` };
    const inVenv = await execa('sh', ['-c', 'python3 -c "import sys; print(sys.prefix != sys.base_prefix)" && pip --version'], { env });
    expect(inVenv.stdout).toMatch(new RegExp(`^True\n.* from .*\\(python 3`));
    const standIn = join(standInBin, 'python3');
    const [standInBefore, machineBefore] = [await freeze(standIn), await freeze('python3')];

    // The first run of `npm test` on this machine made the venv already: then this one finds it.
    const first = await execa('sh', [SCRIPT, 'test'], { env, reject: false });
    expect(first.exitCode, first.stderr).toBe(0);
    const dvc = join(TOOLS_BIN, 'dvc');
    expect(String((await execa(dvc, ['--version'])).stdout)).toMatch(/^\d+\.\d+\.\d+$/);
    // The venv is named by .tools' physical path (a worktree may reach it through a link).
    expect(await pythonOf('dvc', TOOLS_BIN)).toMatch(new RegExp(`^${join(realpathSync(join(REPO, '.tools')), 'venvs', 'dvc', 'bin')}/python[\\d.]*$`));
    // Only the entry points are linked: .tools/bin first on PATH shadows no python, pip or aws.
    for (const p of ['python', 'python3', 'pip', 'aws']) expect(existsSync(join(TOOLS_BIN, p))).toBe(false);

    expect(await freeze(standIn)).toBe(standInBefore);
    expect(await freeze('python3')).toBe(machineBefore);

    const second = await execa('sh', [SCRIPT, 'test'], { env, reject: false });
    expect([second.exitCode, second.stdout, second.stderr]).toEqual([0, '', '']);
  }, 600_000);

  it('as another user, prints the venv commands (and apt for a missing python3) and installs nothing', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const script = join(dir, 'ensure-tools.sh');
    copyFileSync(SCRIPT, script);
    // No python3 and no dvc on this PATH.
    const bin = await binWith(dir, ['rsync', 'rclone', 'git', 'id']);
    const tools = join(dir, 'tools');
    const setpriv = await which('setpriv');
    if (!setpriv) throw new Error('setpriv (util-linux) is missing');
    const r = await execa(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', '/bin/sh', script, 'demo'], {
      env: { PATH: bin, HOME: dir, LABSYNC_TOOLS: tools }, extendEnv: false, reject: false,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n')).toEqual([
      "labsync's demo needs tools this machine lacks. Install them, then run again:",
      // The packaged services kept from starting, as the root path does (policy-rc.d, removed after).
      "  sudo sh -c 'p=/usr/sbin/policy-rc.d; made=0; trap \"[ \\$made = 1 ] && rm -f \\$p\" EXIT; trap \"exit 130\" INT TERM HUP; [ -e $p ] || { made=1; printf \"#!/bin/sh\\nexit 101\\n\" > $p && chmod +x $p; }; apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv'",
      `  python3 -m venv --clear '${tools}/venvs/dvc' && '${tools}/venvs/dvc/bin/pip' install 'dvc[s3]' && mkdir -p '${tools}/bin' && ln -sf '${tools}/venvs/dvc/bin/dvc' '${tools}/bin/dvc'`,
    ]);
    expect(existsSync(tools)).toBe(false);
    // The printed command, run (its policy-rc.d moved into the test's folder, apt-get a stand-in that
    // hangs) and stopped as a Ctrl-C or a dropped session stops it: the file it made is gone.
    const printed = (r.stderr.split('\n')[1] ?? '').replace(/^ {2}sudo sh -c '(.*)'$/, '$1').replaceAll('/usr/sbin/policy-rc.d', join(dir, 'policy-rc.d'));
    writeFileSync(join(bin, 'apt-get'), '#!/bin/sh\nsleep 3\n', { mode: 0o755 });
    for (const signal of ['SIGINT', 'SIGHUP'] as const) {
      // Its own process group, signalled whole: a Ctrl-C reaches apt-get and the shell alike.
      const run = execa('sh', ['-c', printed], { env: { PATH: `${bin}:/usr/bin:/bin` }, extendEnv: false, reject: false, detached: true });
      await until('policy-rc.d made', () => existsSync(join(dir, 'policy-rc.d')), 10_000);
      process.kill(-(run.pid as number), signal);
      expect((await run).exitCode).toBe(130);
      expect(existsSync(join(dir, 'policy-rc.d')), signal).toBe(false);
    }
  });

  it('as another user with tools missing, stops before building versitygw (minutes with go) so the install command comes at once', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const script = join(dir, 'ensure-tools.sh');
    copyFileSync(SCRIPT, script);
    copyFileSync(join(REPO, 'scripts', 'versitygw.sh'), join(dir, 'versitygw.sh'));
    const bin = await binWith(dir, ['rsync', 'rclone', 'git', 'id']);
    // A go that leaves a mark: versitygw.sh asks it first thing.
    const mark = join(dir, 'go-ran');
    writeFileSync(join(bin, 'go'), `#!/bin/sh\n: > '${mark}'\nexit 1\n`, { mode: 0o755 });
    const setpriv = await which('setpriv');
    if (!setpriv) throw new Error('setpriv (util-linux) is missing');
    const r = await execa(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', '/bin/sh', script, 'test'], {
      env: { PATH: bin, HOME: dir, LABSYNC_TOOLS: join(dir, 'tools') }, extendEnv: false, reject: false,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^labsync's test needs tools this machine lacks/);
    expect(existsSync(mark)).toBe(false);
  });

  it('takes a tool whose venv moved (its entry point\'s #! names the old folder) as missing, and says to make the venv again', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const script = join(dir, 'ensure-tools.sh');
    copyFileSync(SCRIPT, script);
    const bin = await binWith(dir, ['rsync', 'rclone', 'git', 'id', 'python3', 'sed', 'head']);
    const tools = join(dir, 'tools');
    // What a .tools folder made elsewhere and moved here holds: the link resolves, its interpreter does not.
    mkdirSync(join(tools, 'venvs', 'dvc', 'bin'), { recursive: true });
    mkdirSync(join(tools, 'bin'));
    writeFileSync(join(tools, 'venvs', 'dvc', 'bin', 'dvc'), '#!/gone/venvs/dvc/bin/python3\nimport sys\n', { mode: 0o755 });
    symlinkSync(join(tools, 'venvs', 'dvc', 'bin', 'dvc'), join(tools, 'bin', 'dvc'));
    const setpriv = await which('setpriv');
    if (!setpriv) throw new Error('setpriv (util-linux) is missing');
    const r = await execa(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', '/bin/sh', script, 'demo'], {
      env: { PATH: bin, HOME: dir, LABSYNC_TOOLS: tools }, extendEnv: false, reject: false,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n')).toContain(
      `  python3 -m venv --clear '${tools}/venvs/dvc' && '${tools}/venvs/dvc/bin/pip' install 'dvc[s3]' && mkdir -p '${tools}/bin' && ln -sf '${tools}/venvs/dvc/bin/dvc' '${tools}/bin/dvc'`,
    );
  });
});
