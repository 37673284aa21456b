import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const SIMPLE = `version: 1
remotes:
  nas: { type: local, path: ../nas }
data:
  - name: raw
    local: data/raw
    remote: nas:raw
`;

describe('the CLI surface', () => {
  it('prints its version and help, exit 0', async () => {
    const lab = new Lab();
    const v = await lab.cli(['--version']);
    expect(v).toMatchObject({ exitCode: 0, stdout: pkg.version });
    const h = await lab.cli(['--help']);
    expect(h.exitCode).toBe(0);
    for (const cmd of ['code', 'data', 'models', 'sync', 'status', 'plan', 'validate', 'init', 'schema', 'doctor', 'demo']) expect(h.stdout).toContain(cmd);
  });

  it('exits 2 on usage errors, naming what is wrong', async () => {
    const lab = new Lab().manifest(SIMPLE);
    expect((await lab.cli(['frobnicate'])).exitCode).toBe(2);
    expect((await lab.cli(['--bogus-flag', 'sync'])).exitCode).toBe(2);
    // With --json, stdout carries a document for a parse failure too (review 41: it carried nothing).
    for (const args of [['--json', 'sync', '--bogus'], ['--json', 'frobnicate']]) {
      const r = await lab.cli(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout), args.join(' ')).toMatchObject({ ok: false, error: expect.stringMatching(/unknown (option|command)/) });
    }
    const badAction = await lab.cli(['data', 'upload']);
    expect(badAction).toMatchObject({ exitCode: 2, stderr: expect.stringContaining("unknown action 'upload' for data; use one of: push, pull, sync, status") });
    const badName = await lab.cli(['data', 'push', 'rwa']);
    expect(badName).toMatchObject({ exitCode: 2, stderr: expect.stringContaining("unknown name 'rwa'; data pairs in the manifest: raw") });
    const badConcurrency = await lab.cli(['sync', '--concurrency', 'lots']);
    expect(badConcurrency).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('--concurrency needs a whole number') });
  });

  it('finds the manifest upward, via -c and via $LABSYNC_CONFIG, and says when there is none', async () => {
    const lab = new Lab().manifest(SIMPLE);
    lab.write(lab.path('deep/er/x'), '');
    expect((await lab.cli(['validate'], { cwd: lab.path('deep/er') })).stdout).toContain('ok, 1 pair');
    const elsewhere = new Lab();
    const none = await elsewhere.cli(['validate']);
    expect(none).toMatchObject({ exitCode: 2, stderr: expect.stringMatching(/no labsync.yaml found in .*\nhint: run `labsync init`/) });
    expect((await elsewhere.cli(['validate', '-c', lab.path('labsync.yaml')])).exitCode).toBe(0);
    expect((await elsewhere.cli(['validate'], { env: { LABSYNC_CONFIG: lab.path('labsync.yaml') } })).exitCode).toBe(0);
    expect((await elsewhere.cli(['validate', '-c', 'nope.yaml'])).stderr).toMatch(/manifest not found: .*nope.yaml \(from -c\/--config\)/);
  });

  it('validate reports every problem at once, located, exit 2, and runs nothing', async () => {
    const lab = new Lab().manifest(`version: 1
data:
  - name: raw
    local: data/raw
    remote: file:///nowhere
    delete: yes
    bwlimt: 10M
  - name: raw
    local: x
    remote: file:///x
`);
    const r = await lab.cli(['validate']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("labsync.yaml:6:13 data.raw: delete: expected boolean, got the string 'yes'");
    expect(r.stderr).toContain("labsync.yaml:7:5 data.raw: unknown key 'bwlimt' (did you mean 'bwlimit'?)");
    expect(r.stderr).toContain("labsync.yaml:8:11 data.raw: name: name 'raw' is already used by data.raw");
    expect(r.stderr).toContain('3 problems in the manifest; nothing was run');
    const j = json<{ ok: boolean; issues: unknown[] }>(await lab.cli(['validate', '--json']));
    expect(j.ok).toBe(false);
    expect(j.issues).toHaveLength(3);
    expect((await lab.cli(['sync'])).exitCode).toBe(2);
    expect(existsSync(lab.path('.labsync', 'state.json'))).toBe(false);
  });

  it('schema prints a JSON Schema that forbids unknown keys', async () => {
    const lab = new Lab();
    const s = json<{ $schema: string; properties: Record<string, unknown>; additionalProperties: boolean }>(await lab.cli(['schema']));
    expect(s.$schema).toMatch(/json-schema.org/);
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['version', 'defaults', 'remotes', 'code', 'data', 'models']));
    expect(s.additionalProperties).toBe(false);
  });

  it('init writes a starter manifest that validates, merges ignore files, and never clobbers', async () => {
    const lab = new Lab();
    writeFileSync(lab.path('.gitignore'), 'node_modules/\n*.pt\n');
    const first = await lab.cli(['init']);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/labsync.yaml: created/);
    expect(first.stdout).toMatch(/\.gitignore: added \d+ entries/);
    expect(first.stdout).toMatch(/\.dvcignore: created/);
    const gitignore = readFileSync(lab.path('.gitignore'), 'utf8');
    expect(gitignore.startsWith('node_modules/\n*.pt\n')).toBe(true);
    expect(gitignore.match(/^\*\.pt$/gm)).toHaveLength(1);
    expect(gitignore).toContain('.labsync/');
    // No link to a page that may not exist: the starter points at the README a user already has.
    const starter = readFileSync(lab.path('labsync.yaml'), 'utf8');
    expect(starter).not.toMatch(/https?:\/\//);
    expect(starter.split('\n')[0]).toMatch(/README/);
    expect((await lab.cli(['validate'])).exitCode).toBe(0);
    writeFileSync(lab.path('labsync.yaml'), '# mine\nversion: 1\n');
    const again = await lab.cli(['init']);
    expect(again.stdout).toMatch(/labsync.yaml: exists, left as it is/);
    expect(again.stdout).toMatch(/\.gitignore: up to date/);
    expect(readFileSync(lab.path('labsync.yaml'), 'utf8')).toBe('# mine\nversion: 1\n');
  });

  it('init says which file it could not write or read, exit 1, without a stack trace', async () => {
    const lab = new Lab();
    const missing = await lab.cli(['init', '-c', 'no/such/folder/labsync.yaml']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/^labsync: \S+\/no\/such\/folder\/labsync\.yaml: cannot write the starter manifest \(ENOENT\)$/);
    mkdirSync(lab.path('.gitignore'));
    const folder = await lab.cli(['init']);
    expect(folder.exitCode).toBe(1);
    expect(folder.stderr).toMatch(/^labsync: \S+\/\.gitignore: cannot read it to merge the missing lines \(EISDIR[^\n]*\)$/);
  });

  it('init writes where the other commands look (-c absolute or relative, $LABSYNC_CONFIG), the ignore files beside it; --dry-run writes nothing; a user\'s bytes are kept', async () => {
    const lab = new Lab();
    const elsewhere = lab.outside('proj');
    mkdirSync(elsewhere);
    const abs = await lab.cli(['init', '-c', join(elsewhere, 'lab.yaml')]);
    expect(abs.exitCode, abs.stderr).toBe(0);
    expect(existsSync(join(elsewhere, 'lab.yaml'))).toBe(true);
    expect(existsSync(join(elsewhere, '.gitignore'))).toBe(true);
    expect(existsSync(lab.path('.gitignore'))).toBe(false);
    const viaEnv = await lab.cli(['init'], { env: { LABSYNC_CONFIG: 'conf/labsync.yaml' } });
    expect(viaEnv.exitCode, viaEnv.stderr).toBe(1); // conf/ does not exist: said, nothing half-made
    mkdirSync(lab.path('conf'));
    expect((await lab.cli(['init'], { env: { LABSYNC_CONFIG: 'conf/labsync.yaml' } })).exitCode).toBe(0);
    expect((await lab.cli(['validate'], { env: { LABSYNC_CONFIG: 'conf/labsync.yaml' } })).exitCode).toBe(0);

    const dry = new Lab();
    const before = Buffer.from('donn\xe9es/\n', 'latin1'); // not UTF-8: kept byte for byte
    writeFileSync(dry.path('.gitignore'), before);
    const planned = await dry.cli(['--dry-run', 'init']);
    expect(planned.stdout).toMatch(/labsync.yaml: would be created/);
    expect(planned.stdout).toMatch(/\.gitignore: would add \d+ entries/);
    expect(existsSync(dry.path('labsync.yaml'))).toBe(false);
    expect(readFileSync(dry.path('.gitignore'))).toEqual(before);
    expect((await dry.cli(['init'])).exitCode).toBe(0);
    expect(readFileSync(dry.path('.gitignore')).subarray(0, before.length)).toEqual(before);

    const folder = new Lab();
    mkdirSync(folder.path('labsync.yaml'));
    const r = await folder.cli(['init']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/labsync\.yaml is a folder, not a manifest; nothing was written/);
  });

  it('init adds no ignore rule for a folder git tracks files in (a models/ of code, a src/runs/ package): new files there would be hidden', async () => {
    const lab = new Lab();
    lab.write(lab.path('models/yolo.py'), 'x = 1\n').write(lab.path('src/runs/launch.py'), 'y = 2\n').write(lab.path('data/raw.csv'), 'a\n');
    for (const args of [['init', '-q'], ['add', 'models/yolo.py', 'src/runs/launch.py'], ['commit', '-qm', 'code']]) {
      if (args[0] === 'init') execFileSync('git', ['init', '-q'], { cwd: lab.path(), env: lab.env });
      else execFileSync('git', args, { cwd: lab.path(), env: lab.env });
    }
    const r = await lab.cli(['init']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no rule \/models\/\*\* added: git tracks models\/yolo\.py \(and any like it\)/);
    expect(r.stdout).toMatch(/no rule runs\/ added: git tracks src\/runs\/launch\.py/);
    const gitignore = readFileSync(lab.path('.gitignore'), 'utf8').split('\n');
    expect(gitignore).not.toContain('/models/**');
    expect(gitignore).not.toContain('runs/');
    expect(gitignore).toContain('/data/**'); // data/ holds no tracked file: its rules stay
    lab.write(lab.path('models/new_arch.py'), 'z = 3\n');
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: lab.path(), env: lab.env, encoding: 'utf8' })).toContain('models/new_arch.py');
  });

  it('init keeps out a file rule that matches tracked files (a test fixture .pt), and asks git only of its rules: a repo of 1 MB of tracked names is read right', async () => {
    const lab = new Lab();
    lab.write(lab.path('tests/fixtures/tiny.pt'), 'w');
    // ~1.2 MB of tracked names under models/: more than a child's default output buffer.
    const long = 'n'.repeat(200);
    for (let i = 0; i < 5000; i++) lab.write(lab.path(`models/${String(i % 50)}/${long}-${i}.py`), '');
    execFileSync('git', ['init', '-q'], { cwd: lab.path(), env: lab.env });
    execFileSync('git', ['add', '-A'], { cwd: lab.path(), env: lab.env });
    execFileSync('git', ['commit', '-qm', 'code'], { cwd: lab.path(), env: lab.env });
    const r = await lab.cli(['init']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no rule \*\.pt added: git tracks tests\/fixtures\/tiny\.pt/);
    expect(r.stdout).toMatch(/no rule \/models\/\*\* added/);
    const gitignore = readFileSync(lab.path('.gitignore'), 'utf8').split('\n');
    expect(gitignore).not.toContain('*.pt');
    expect(gitignore).not.toContain('/models/**');
    expect(gitignore).toContain('*.ckpt');
  }, 60_000);

  it('a manifest error quoting a value with a secret in it (a ${TOKEN} expanded) shows it redacted, as text and as --json', async () => {
    const secret = 'hf_PlantedSecret0123456789';
    const lab = new Lab().manifest('version: 1\ndata:\n  - { name: a, local: a, remote: "/tmp/x-${HF_TOKEN}/raw" }\n');
    for (const args of [['validate'], ['validate', '--json'], ['data', 'push']]) {
      const r = await lab.cli(args, { env: { HF_TOKEN: secret } });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr + r.stdout).toContain('is neither NAME:SUBPATH');
      expect(r.stderr + r.stdout, args.join(' ')).not.toContain(secret);
    }
    const doctor = await lab.cli(['doctor'], { env: { HF_TOKEN: secret } });
    expect(doctor.stdout + doctor.stderr).not.toContain(secret);
    // A value quoted cut short is redacted before it is cut; --json stays JSON whatever a secret-looking variable holds.
    lab.manifest('version: 1\nremotes:\n  nas: "https://u:${HF_TOKEN}@example.com/path"\ndata: []\n');
    const cut = await lab.cli(['validate', '--json'], { env: { HF_TOKEN: secret, TOKENIZERS_PARALLELISM: 'false', MY_PASSWORD: 'message' } });
    expect(cut.exitCode).toBe(2);
    expect(cut.stderr + cut.stdout).not.toContain(secret.slice(0, 12));
    expect(JSON.parse(cut.stdout)).toMatchObject({ ok: false, issues: [expect.objectContaining({ message: expect.stringContaining('got the string') })] });
  });

  it('validate of a good manifest shows its remotes redacted, as text and as --json (review 41: it printed a token expanded into a URL as it was)', async () => {
    const secret = 'hf_PlantedSecret0123456789';
    const lab = new Lab().manifest('version: 1\ncode:\n  - { name: c, local: ., remote: "https://x-access-token:${HF_TOKEN}@example.com/org/repo.git" }\n  - { name: d, local: d, remote: "https://${GH_PAT}@example.com/org/d.git" }\n');
    for (const args of [['validate'], ['validate', '--json']]) {
      const r = await lab.cli(args, { env: { HF_TOKEN: secret, GH_PAT: 'ghp_PlantedPat0123456789' } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain('https://x-access-token:***@example.com/org/repo.git');
      expect(r.stdout).toContain('https://***@example.com/org/d.git');
      expect(r.stdout + r.stderr).not.toMatch(/PlantedSecret|PlantedPat/);
    }
  });

  it('a manifest that is not UTF-8 is refused at the first bad byte, by validate and by a run alike (a latin1 name became a folder named with U+FFFD)', async () => {
    const lab = new Lab();
    writeFileSync(lab.path('labsync.yaml'), Buffer.from('version: 1\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: a\n    local: donn\xe9es\n    remote: nas:a\n', 'latin1'));
    for (const args of [['validate'], ['data', 'pull', 'a']]) {
      const r = await lab.cli(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/labsync\.yaml:6:16 not UTF-8 text: save the manifest as UTF-8/);
    }
    expect(readdirSync(lab.path())).not.toContain('donn\uFFFDes');
  });

  it('plan prints the commands a run executes with secrets redacted, and runs nothing', async () => {
    const lab = new Lab().manifest(`version: 1
remotes:
  nas: { type: local, path: "../nas-\${TEAM_TOKEN}" }
data:
  - name: raw
    local: data/raw
    remote: nas:raw
    delete: true
`);
    const r = await lab.cli(['plan', 'data', 'push'], { env: { TEAM_TOKEN: 's3cr3t-value' } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('# data.raw: push with rsync');
    expect(r.stdout).toMatch(/find \. .*# list: the local side/);
    expect(r.stdout).toMatch(/rsync --archive .*--files-from=- .*# transfer/);
    expect(r.stdout).toMatch(/rsync .*--delete-missing-args .*nas-\*\*\*.*# delete/);
    expect(r.stdout).toMatch(/^# verify: /m);
    expect(r.stdout).not.toContain('s3cr3t-value');
    expect(r.stdout).toContain('nas-***');
    expect(existsSync(lab.outside('nas-s3cr3t-value'))).toBe(false);
  });
});
