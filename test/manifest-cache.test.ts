// The resolved manifest remembered between runs (src/manifest/cache.ts), through the real CLI: a run
// sees every change of what resolution reads (the manifest, a variable it interpolates), and a damaged
// entry costs nothing but the parse.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { userCacheFolder } from '../src/manifest/cache.js';
import { Lab } from './harness/lab.js';

const manifest = (extra = ''): string => `version: 1
remotes:
  nas:
    type: local
    path: \${NAS:-../nas}
data:
  - name: raw
    local: raw
    remote: nas:raw${extra}
`;

describe('resolved-manifest cache (CLI)', () => {
  let lab: Lab;
  beforeEach(() => {
    lab = new Lab();
    lab.write(lab.path('raw', 'a.txt'), 'a\n').manifest(manifest());
  });

  const entries = (): string[] => {
    const folder = userCacheFolder(lab.env);
    return existsSync(folder) ? readdirSync(folder).filter((n) => n.startsWith('manifest-')) : [];
  };
  const destOf = async (env: Record<string, string> = {}): Promise<string> => {
    const r = await lab.cli(['plan', 'data', 'push', '--json'], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const steps = JSON.parse(r.stdout).pairs[0].steps as { step: string; command?: string }[];
    // The transfer's destination: the last word before its file list on stdin.
    return (steps.find((s) => s.step === 'transfer')?.command as string).replace(/ < \(the files the plan lists\)$/, '').split(' ').at(-1) as string;
  };

  it('a changed variable or manifest is seen on the next run; one entry per manifest and folder', async () => {
    expect(await destOf()).toBe(`${lab.outside('nas', 'raw')}/`);
    expect(entries()).toHaveLength(1);
    expect(await destOf()).toBe(`${lab.outside('nas', 'raw')}/`);
    expect(await destOf({ NAS: lab.outside('elsewhere') })).toBe(`${lab.outside('elsewhere', 'raw')}/`);
    expect(await destOf()).toBe(`${lab.outside('nas', 'raw')}/`);
    lab.manifest(manifest().replace('remote: nas:raw', 'remote: nas:raw2'));
    expect(await destOf()).toBe(`${lab.outside('nas', 'raw2')}/`);
    expect(entries()).toHaveLength(1);
  });

  it('a hook added to the manifest runs on the very next push', async () => {
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
    const flag = lab.outside('hook-ran');
    lab.manifest(manifest(`\n    hooks:\n      before: ["sh", "-c", "echo ran > ${flag}"]`));
    const r = await lab.cli(['data', 'push', '-q']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(flag, 'utf8')).toBe('ran\n');
  });

  it('a damaged entry is passed over without a word', async () => {
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
    const [name] = entries();
    writeFileSync(join(userCacheFolder(lab.env), name as string), '{"format":1,"manifest":', { mode: 0o600 });
    const r = await lab.cli(['data', 'push', '-q']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(readFileSync(join(userCacheFolder(lab.env), name as string), 'utf8')).manifest.pairs).toHaveLength(1);
  });
});
