// labsync as a package: packed from a clean copy of the project (no dist/ yet), installed into a temp
// prefix without dev dependencies, and run from there, as `npm i -g ./labsync-*.tgz` would.
import { execa } from 'execa';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { REPO } from './harness/tools.js';

interface Packed { filename: string; files: { path: string }[] }

/** A copy of what a clone would hold (tracked files and new ones git does not ignore), so nothing is built in the repo. */
async function cleanCopy(to: string): Promise<void> {
  const listed = String((await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO })).stdout);
  for (const file of listed.split('\0').filter(Boolean)) {
    if (!existsSync(join(REPO, file))) continue; // deleted in the work tree, not yet committed
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(REPO, file), join(to, file));
  }
  // The dev dependencies a clone gets from `npm ci`; linked, not installed again.
  symlinkSync(realpathSync(join(REPO, 'node_modules')), join(to, 'node_modules'));
}

/** Bare module names the bundle loads at run time (import, import(), require). */
function runtimeImports(dist: string): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(dist).filter((f) => f.endsWith('.js'))) {
    const code = readFileSync(join(dist, file), 'utf8');
    for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']([@\w][\w@/.:-]*)["']/g)) names.add(m[1]!);
  }
  return names;
}

describe('the packed package', () => {
  it('ships bin, dist and README only, installs without dev dependencies, and runs --version, init and demo', async () => {
    const lab = new Lab('labsync-package-');
    const repoStatus = async (): Promise<string> => String((await execa('git', ['status', '--porcelain'], { cwd: REPO })).stdout);
    // Packing never writes into the repository (no tarball or build left in it).
    const statusBefore = await repoStatus();
    const src = lab.outside('clone');
    await cleanCopy(src);
    expect(existsSync(join(src, 'dist'))).toBe(false);
    // npm with a cache and config of its own: the user's ~/.npmrc and ~/.npm are never read or written.
    const npmEnv = {
      ...lab.env,
      npm_config_cache: lab.outside('npm-cache'),
      npm_config_userconfig: lab.outside('npmrc'),
      npm_config_globalconfig: lab.outside('npmrc-global'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    };
    writeFileSync(npmEnv.npm_config_userconfig, '');
    writeFileSync(npmEnv.npm_config_globalconfig, '');
    mkdirSync(lab.outside('packed'));
    const pack = await execa('npm', ['pack', '--json', '--pack-destination', lab.outside('packed')], { cwd: src, env: npmEnv, extendEnv: false });
    const packed = (JSON.parse(String(pack.stdout)) as Packed[])[0]!;
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/labsync.js', 'dist/cli.js', 'dist/hash-worker.js', 'dist/folder-answers.js']));
    // bin/package.json makes bin/labsync.js CommonJS (a faster start than an ES module entry).
    expect(files.filter((f) => !/^(package\.json|README\.md|LICENSE|bin\/labsync\.js|bin\/package\.json|dist\/[^/]+\.js)$/.test(f))).toEqual([]);

    const prefix = lab.outside('prefix');
    const tgz = join(lab.outside('packed'), packed.filename);
    await execa('npm', ['install', '--global', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', tgz], { cwd: lab.outside(), env: npmEnv, extendEnv: false });
    const installed = join(prefix, 'lib', 'node_modules', 'labsync');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
    // The bundle loads node's own modules, and anything else only from the package's dependencies.
    const imports = [...runtimeImports(join(installed, 'dist'))];
    expect(imports).toContain('node:module');
    expect(imports.filter((m) => !isBuiltin(m) && !(m in (manifest.dependencies ?? {})))).toEqual([]);
    // Every dependency is bundled but the native watcher, which loads its platform's binary by name.
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['@parcel/watcher']);

    const labsync = join(prefix, 'bin', 'labsync');
    const env = { ...lab.env, PATH: `${join(prefix, 'bin')}:${lab.env.PATH}` };
    const version = await execa(labsync, ['--version'], { cwd: lab.path(), env, extendEnv: false, reject: false });
    expect([version.exitCode, version.stdout, version.stderr]).toEqual([0, manifest.version, '']);
    const init = await execa(labsync, ['init'], { cwd: lab.path(), env, extendEnv: false, reject: false });
    expect(init.exitCode, init.stderr).toBe(0);
    expect(existsSync(lab.path('labsync.yaml'))).toBe(true);
    const validate = await execa(labsync, ['validate'], { cwd: lab.path(), env, extendEnv: false, reject: false });
    expect(validate.exitCode, validate.stderr).toBe(0);
    const demo = await execa(labsync, ['demo'], { cwd: lab.path(), env, extendEnv: false, reject: false });
    expect(demo.exitCode, `${demo.stdout}\n${demo.stderr}`).toBe(0);
    expect(demo.stdout).toContain('demo: every step did what it should');
    expect(await repoStatus()).toBe(statusBefore);
  }, 300_000);
});
