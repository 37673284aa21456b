import { describe, expect, it } from 'vitest';
import { ManifestError, formatIssue } from '../errors.js';
import { loadManifestText } from './load.js';

const FILE = '/lab/labsync.yaml';

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadManifestText(text, FILE, env);
  } catch (error) {
    if (error instanceof ManifestError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

describe('hf remotes (issue 14)', () => {
  const hf = (remote: string, pair = '', category = 'models'): string => `version: 1
remotes:
  hub: ${remote}
${category}:
  - name: release
    local: models/release
    remote: hub${pair}
`;

  it('resolves repo, repo_type, revision and subfolder, tool hf by default', () => {
    const m = loadManifestText(hf('{ type: hf, repo: my-org/my-model }', ':ckpt'), FILE, {});
    expect(m.pairs[0]).toMatchObject({ tool: 'hf', remote: { type: 'hf', repo: 'my-org/my-model', repoType: 'model', revision: 'main', path: 'ckpt', create: false } });
  });

  it('names each problem with its place and a did-you-mean', () => {
    expect(problems(hf('{ type: hf, repo: my-org/my-model, revison: v1 }'))[0]).toBe("/lab/labsync.yaml:3:43 remotes.hub: unknown key 'revison' (did you mean 'revision'?)");
    expect(problems(hf('{ type: hf, repo: just-a-name }'))[0]).toMatch(/remotes\.hub: repo: must be ORG\/NAME/);
    expect(problems(hf('{ type: hf, repo: o/m, repo_type: modle }'))[0]).toMatch(/repo_type/);
    expect(problems(hf('{ type: hf, repo: o/m }', '', 'data'))[0]).toMatch(/data\.release.*tool hf is for models: pairs/);
    expect(problems(hf('{ type: hf, repo: o/m }', ':sub\n    mode: pull'))[0]).toMatch(/a pull from a subfolder of an hf repo \(sub\) is not supported/);
    expect(problems(hf('{ type: hf, repo: o/m }', '\n    backup: true'))[0]).toMatch(/backup is not supported by hf/);
    expect(problems(hf(`{ type: hf, repo: o/m, revision: ${'a'.repeat(40)} }`))[0]).toMatch(/a push needs a branch/);
    expect(problems(hf(`{ type: hf, repo: o/m, revision: ${'a'.repeat(40)} }`, '\n    mode: pull'))).toEqual([]);
  });
});

const GOOD = `version: 1
defaults:
  retries: 1
  exclude: ["*.tmp"]
remotes:
  nas: { type: local, path: /mnt/nas }
  gpu: { type: ssh, host: gpu1, user: ubuntu, port: 2222, identity: keys/id, path: /home/ubuntu/lab }
data:
  - name: processed
    local: data/processed
    remote: nas:data/processed
    delete: true
    max_delete: 10%
    backup: true
    bwlimit: 10M
    schedule: "0 * * * *"
    tags: [hourly]
models:
  - name: checkpoints
    local: models/
    remote: gpu:models
    exclude: ["*.lock"]
`;

describe('loadManifestText', () => {
  it('resolves defaults, remotes and paths', () => {
    const m = loadManifestText(GOOD, FILE, {});
    expect(m.root).toBe('/lab');
    expect(m.concurrency).toBe(2);
    const [processed, checkpoints] = m.pairs;
    expect(processed).toMatchObject({
      name: 'processed', category: 'data', tool: 'rsync', local: '/lab/data/processed', mode: 'push',
      remote: { type: 'local', path: '/mnt/nas/data/processed' }, delete: true, maxDelete: { percent: 10 },
      backup: true, bwlimit: '10M', retries: 1, exclude: ['*.tmp'], tags: ['hourly'], verify: 'checksum', timeoutMs: 7_200_000,
      source: { file: expect.any(String), line: 9, col: 5 },
    });
    expect(checkpoints).toMatchObject({
      tool: 'rsync', exclude: ['*.lock'], maxDelete: { percent: 50 },
      remote: { type: 'ssh', host: 'gpu1', user: 'ubuntu', port: 2222, identity: '/lab/keys/id', path: '/home/ubuntu/lab/models' },
    });
  });

  it('reads stall_timeout from a pair, else defaults, else 2m; checks it like timeout', () => {
    const text = 'version: 1\ndefaults:\n  stall_timeout: 90s\ndata:\n  - { name: a, local: a, remote: file:///r, stall_timeout: 3s }\n  - { name: b, local: b, remote: file:///r }\n';
    expect(loadManifestText(text, FILE, {}).pairs.map((p) => p.stallTimeoutMs)).toEqual([3000, 90_000]);
    expect(loadManifestText('version: 1\ndata:\n  - { name: a, local: a, remote: file:///r }\n', FILE, {}).pairs[0]?.stallTimeoutMs).toBe(120_000);
    expect(problems('version: 1\ndefaults:\n  stall_timeout: 500ms\ndata:\n  - { name: a, local: a, remote: file:///r, stall_timeout: soon }\n')).toEqual([
      expect.stringMatching(/:3:18 defaults\.stall_timeout: must be at least 1s \(tools report progress about once a second\), got 500ms/),
      expect.stringMatching(/:5:60 data\.a: stall_timeout: must be a duration like 30s, 10m or 2h/),
    ]);
  });

  it('expands ${VAR} and reports unset ones with their position', () => {
    const text = 'version: 1\nremotes:\n  nas: { type: local, path: "${NAS:-/mnt/x}" }\ndata:\n  - name: a\n    local: "${LOCAL_DIR}"\n    remote: nas:a\n';
    expect(loadManifestText(text, FILE, { LOCAL_DIR: '/d' }).pairs[0]).toMatchObject({ local: '/d', remote: { path: '/mnt/x/a' } });
    expect(problems(text)).toEqual([expect.stringMatching(/:6:12 data\.a: local: environment variable LOCAL_DIR is not set/)]);
  });

  it('reports unknown keys with a suggestion, every one at once', () => {
    const text = 'version: 1\ndata:\n  - name: a\n    local: x\n    remote: file:///r\n    delet: true\n    max-delete: 3\nextra: 1\n';
    expect(problems(text)).toEqual([
      expect.stringMatching(/:6:5 data\.a: unknown key 'delet' \(did you mean 'delete'\?\)/),
      expect.stringMatching(/:7:5 data\.a: unknown key 'max-delete' \(did you mean 'max_delete'\?\)/),
      expect.stringMatching(/:8:1 unknown key 'extra'/),
    ]);
  });

  it('takes compress on rsync ssh pairs (from defaults only where it applies) and refuses it elsewhere, located', () => {
    const text = 'version: 1\ndefaults:\n  compress: true\nremotes:\n  gpu: { type: ssh, host: g, path: /p }\ndata:\n  - { name: a, local: a, remote: gpu:a }\n  - { name: b, local: b, remote: file:///r }\n';
    expect(loadManifestText(text, FILE, {}).pairs.map((p) => p.compress ?? false)).toEqual([true, false]);
    expect(problems('version: 1\ndata:\n  - name: a\n    local: a\n    remote: file:///r\n    compress: true\n')).toEqual([
      expect.stringMatching(/:6:15 data\.a: compress: only rsync over ssh compresses \(this pair: rsync to a local remote\)/),
    ]);
    expect(problems('version: 1\ndata:\n  - name: a\n    local: a\n    remote: s3://b/p\n    compress: true\n')[0]).toMatch(/compress: only rsync over ssh compresses \(this pair: aws to a s3 remote\)/);
  });

  it('takes snapshots on push pairs to local or ssh remotes only, with clear located errors', () => {
    const ok = loadManifestText('version: 1\ndefaults:\n  backup: true\ndata:\n  - { name: a, local: a, remote: file:///r, snapshots: { keep: 7 } }\n', FILE, {});
    expect(ok.pairs[0]).toMatchObject({ snapshots: { keep: 7 }, backup: false });
    const pairText = (extra: string, remote = 'file:///r'): string => `version: 1\ndata:\n  - name: a\n    local: a\n    remote: ${remote}\n${extra}`;
    expect(problems(pairText('    snapshots: { keep: 7 }\n', 's3://b/p'))).toEqual([expect.stringMatching(/:6:16 data\.a: snapshots: need rsync to a local or ssh remote \(this pair: aws to a s3 remote\)/)]);
    expect(problems(pairText('    mode: pull\n    snapshots: { keep: 7 }\n'))).toEqual([expect.stringMatching(/:7:16 data\.a: snapshots: are made by push pairs only \(this pair's mode: pull\)/)]);
    expect(problems(pairText('    backup: true\n    snapshots: { keep: 2 }\n'))).toEqual([expect.stringMatching(/:6:13 data\.a: backup: does not apply to snapshots/)]);
    expect(problems(pairText('    snapshots: { keep: 0 }\n'))[0]).toMatch(/data\.a: snapshots\.keep: /);
    expect(problems(pairText('    snapshots: { kep: 3 }\n')).join('\n')).toMatch(/missing required key 'keep' in snapshots/);
  });

  it('rejects duplicate keys and tabs', () => {
    expect(problems('version: 1\nversion: 1\n')).toEqual([expect.stringMatching(/:2:1 duplicate key/)]);
    expect(problems('version: 1\ndata:\n\t- name: a\n')[0]).toMatch(/:3:1 .*[Tt]ab/);
  });

  it('says a second document, a missing version and a category of comments only in the manifest\'s terms', () => {
    expect(problems('version: 1\ndata: []\n---\nversion: 1\n')).toEqual([expect.stringMatching(/:3:1 a second YAML document starts here: a manifest is one document/)]);
    expect(problems('data: []\n')).toEqual([expect.stringMatching(/:1:1 version: missing \(a manifest starts with `version: 1`\)/)]);
    expect(problems('version: 2\n')).toEqual([expect.stringMatching(/version: must be 1/)]);
    // Every pair commented out leaves `data:` null: no pairs, not "expected array, got null".
    const m = loadManifestText('version: 1\ndata:\n  # - name: a\nmodels:\n', FILE, {});
    expect(m.pairs).toEqual([]);
    const none = loadManifestText('version: 1\ndefaults:\n  # retries: 3\nremotes:\n  # nas: { type: local, path: /x }\ndata:\n  - { name: a, local: a, remote: "file:///r" }\n', FILE, {});
    expect(none.pairs.map((p) => p.name)).toEqual(['a']);
  });

  it('refuses an MLflow alias MLflow reserves (latest, v1…), located', () => {
    const text = (alias: string): string => `version: 1\nremotes:\n  reg: { type: mlflow, tracking_uri: "http://127.0.0.1:5000", model: m }\nmodels:\n  - name: clf\n    local: m\n    remote: reg\n    alias: ${alias}\n`;
    expect(problems(text('Latest'))).toEqual([expect.stringMatching(/:8:12 models\.clf: alias: is reserved by MLflow/)]);
    expect(problems(text('v3'))).toEqual([expect.stringMatching(/alias: is reserved by MLflow/)]);
    expect(problems(text('champion'))).toEqual([]);
    expect(problems(text('v3-candidate'))).toEqual([]);
    expect(problems(text('a'.repeat(256)))).toEqual([expect.stringMatching(/alias: is longer than MLflow takes/)]);
    expect(problems(text('champion').replace('name: clf', 'name: clf.shard-1-of-2'))).toEqual([expect.stringMatching(/name: must not end in \.shard-K-of-N/)]);
  });

  it('does not coerce YAML 1.1 booleans or octal-looking numbers', () => {
    const text = 'version: 1\ndata:\n  - name: a\n    local: x\n    remote: file:///r\n    delete: yes\n    retries: 010\n';
    const out = problems(text);
    expect(out).toContainEqual(expect.stringMatching(/:6:13 data\.a: delete: expected boolean, got the string 'yes' \(YAML 1\.2 reads yes\/no/));
    expect(out).toContainEqual(expect.stringMatching(/:7:14 ambiguous number 010/));
  });

  it('reports wrong types, missing keys and bad enums', () => {
    const text = 'version: 1\ndata:\n  - name: a\n    remote: file:///r\n    mode: mirror\n    retries: "3"\n';
    const out = problems(text);
    expect(out).toContainEqual(expect.stringMatching(/:3:5 data\.a: missing required key 'local'/));
    expect(out).toContainEqual(expect.stringMatching(/data\.a: mode: the string 'mirror' is not one of: push, pull, bisync/));
    expect(out).toContainEqual(expect.stringMatching(/data\.a: retries: expected (int|number), got the string '3'/));
  });

  it('applies cross-field rules from adapter capabilities', () => {
    const text = `version: 1
remotes:
  nas: { type: local, path: /n }
data:
  - name: a
    local: x
    remote: nas:a
    mode: bisync
    transfers: 4
  - name: a
    local: y
    remote: nope:y
  - name: c
    local: z
    remote: nas:z
    schedule: "61 * * * *"
    max_delete: 150%
`;
    const out = problems(text);
    expect(out).toContainEqual(expect.stringMatching(/:8:11 data\.a: mode: mode bisync is not supported by rsync \(supported: push, pull\)/));
    expect(out).toContainEqual(expect.stringMatching(/data\.a: transfers: transfers is not supported by rsync/));
    expect(out).toContainEqual(expect.stringMatching(/:10:11 data\.a: name: name 'a' is already used by data\.a/));
    expect(out).toContainEqual(expect.stringMatching(/data\.a: remote: unknown remote 'nope' \(defined: nas\)/));
    expect(out).toContainEqual(expect.stringMatching(/data\.c: schedule: minute '61' is out of range/));
    expect(out).toContainEqual(expect.stringMatching(/data\.c: max_delete: a percentage cannot exceed 100%/));
  });

  it('checks hooks are argv arrays and pings are http(s) URLs', () => {
    const text = 'version: 1\ndefaults:\n  notify: { success: "ftp://x/ok" }\ndata:\n  - name: a\n    local: a\n    remote: file:///r\n    hooks: { before: "python export.py" }\n';
    expect(problems(text)).toEqual([
      expect.stringMatching(/:3:22 defaults\.notify\.success: must be an http:\/\/ or https:\/\/ URL/),
      expect.stringMatching(/:8:22 data\.a: hooks\.before: expected array/),
    ]);
  });

  it('knows which remotes each tool reaches', () => {
    const text = 'version: 1\nremotes:\n  gd: { type: rclone, remote: gdrive }\ndata:\n  - name: raw\n    tool: dvc\n    local: data\n    remote: gd:x\n';
    expect(problems(text)).toEqual([expect.stringMatching(/data\.raw: remote: dvc cannot reach a rclone remote \(it reaches: local, s3, ssh\)/)]);
  });

  it('rejects names that could escape a folder, and hostile documents', () => {
    expect(problems('version: 1\ndata:\n  - name: ../x\n    local: a\n    remote: file:///r\n')[0]).toMatch(/name: must match/);
    expect(problems('version: 1\ndata:\n  - name: ..\n    local: a\n    remote: file:///r\n')[0]).toMatch(/name: must match/);
    expect(problems('version: 1\ndata:\n  - name: -x\n    local: a\n    remote: file:///r\n')[0]).toMatch(/name: .*not start with "-"/);
    const bomb = 'a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n';
    expect(problems(bomb)[0]).toMatch(/cannot read the manifest: .*alias/i);
    expect(problems('')[0]).toMatch(/empty/);
    expect(problems('- a\n- b\n')[0]).toMatch(/must be a mapping/);
    expect(problems('version: 2\n')[0]).toMatch(/version: must be 1/);
  });

  it('accepts inline URLs', () => {
    const text = 'version: 1\ndata:\n  - name: a\n    local: a\n    remote: ssh://me@host:2200/srv/a\n  - name: b\n    local: b\n    remote: file:///srv/b\n';
    const [a, b] = loadManifestText(text, FILE, {}).pairs;
    expect(a?.remote).toEqual({ type: 'ssh', host: 'host', user: 'me', port: 2200, path: '/srv/a', sshOptions: [] });
    expect(b?.remote).toEqual({ type: 'local', path: '/srv/b' });
  });

  it('says what a rate and a deletion limit take, whatever the wrong value is (review 41: "must match pattern /…/")', () => {
    const text = (extra: string): string => `version: 1\ndata:\n  - name: a\n    local: a\n    remote: "file:///r"\n${extra}`;
    expect(problems(text('    bwlimit: 10MB\n')).join('\n')).toMatch(/bwlimit: must be a rate per second like 10M, 500K or 2G \(a plain number is KiB\/s/);
    expect(problems(text('    max_delete: "10 %"\n')).join('\n')).toMatch(/max_delete: must be a count \(10\) or a percentage/);
  });

  it('refuses a YAML tag it does not know instead of keeping its bare text, located (review 41: `!env DATA` became the folder DATA)', () => {
    expect(problems('version: 1\ndata:\n  - { name: a, local: !env DATA, remote: "file:///r" }\n').join('\n')).toMatch(/labsync\.yaml:3:\d+ .*!env.*a manifest uses plain YAML values/);
  });

  it('refuses a timeout under a second, in a pair and in defaults (review 41: 0s meant none to one step and at once to another)', () => {
    expect(problems('version: 1\ndefaults:\n  timeout: 0s\ndata:\n  - { name: a, local: a, remote: "file:///r", timeout: 500ms }\n').join('\n')).toMatch(/timeout: must be at least 1s[^]*timeout: must be at least 1s/);
  });

  it('judges the rest of a pair and of defaults when one key is wrong, every problem at once (a bad max_delete hid a bad timeout until fixed)', () => {
    const text = 'version: 1\ndefaults:\n  retries: many\n  timeout: 0s\ndata:\n  - { name: a, local: a, remote: "file:///r", max_delete: lots, bogus: 1, timeout: 500ms }\n';
    expect(problems(text)).toEqual([
      expect.stringMatching(/:3:\d+ defaults\.retries: /),
      expect.stringMatching(/:4:\d+ defaults\.timeout: must be at least 1s/),
      expect.stringMatching(/:6:\d+ data\.a: max_delete: must be a count/),
      expect.stringMatching(/:6:\d+ data\.a: unknown key 'bogus'/),
      expect.stringMatching(/:6:\d+ data\.a: timeout: must be at least 1s/),
    ]);
    // A wrong key that decides the tool or the remote leaves the pair's rules unjudged: they would judge another pair.
    expect(problems('version: 1\ndata:\n  - { name: a, local: a, remote: "file:///r", tool: rsink, timeout: 500ms }\n')).toEqual([expect.stringMatching(/tool: /)]);
    // So does a misspelled one (review 50: `mdoe: bisync` had the pair judged as a push).
    expect(problems('version: 1\nremotes:\n  s3x: { type: s3, bucket: b }\ndata:\n  - { name: a, local: a, remote: "s3x:p", tool: rclone, mdoe: bisync, conflict: newer }\n')).toEqual([expect.stringMatching(/unknown key 'mdoe'/)]);
    // A typo nearer another key is not one: the rest is still judged.
    expect(problems('version: 1\ndata:\n  - { name: a, local: a, remote: "file:///r", retrys: 2, timeout: 500ms }\n')).toEqual([
      expect.stringMatching(/unknown key 'retrys'/),
      expect.stringMatching(/timeout: must be at least 1s/),
    ]);
  });

  it("refuses rsync's filter-rule prefixes in exclude, located, with the pattern to write (rsync read '- x' as x and '+ x' as an include; the plan read them as names)", () => {
    const got = problems('version: 1\ndefaults:\n  exclude: ["!"]\ndata:\n  - name: a\n    local: a\n    remote: "file:///r"\n    exclude: ["*.tmp", "- cache/", "+ keep.log", "[-] odd"]\n');
    expect(got).toEqual([
      expect.stringMatching(/:3:\d+ defaults\.exclude\[0\]: '!' means "clear the exclude list" to rsync/),
      expect.stringMatching(/:8:\d+ data\.a: exclude\[1\]: '- cache\/' is an rsync filter rule, not a pattern \(rsync reads it as "exclude cache\/"\): write 'cache\/'/),
      expect.stringMatching(/:8:\d+ data\.a: exclude\[2\]: '\+ keep\.log' is an rsync filter rule[^]*"include keep\.log"[^]*leave it out/),
    ]);
  });

  it('refuses a wildcard exclude ending in a lone backslash (rsync matches nothing with it; with /** after it the backslash escaped the slash: review 73), and takes an escaped one', () => {
    const got = problems('version: 1\ndata:\n  - name: a\n    local: a\n    remote: "file:///r"\n    exclude: ["a*\\\\", "*\\\\/", "a*\\\\\\\\", "plain\\\\", "x\\\\*"]\n');
    expect(got).toEqual([
      expect.stringMatching(/data\.a: exclude\[0\]: 'a\*\\' ends in a backslash that escapes nothing/),
      expect.stringMatching(/data\.a: exclude\[1\]: '\*\\\/' ends in a backslash that escapes nothing/),
    ]);
  });

  it('refuses a pair name too long for its lock and receipt file names, located (review 41: validate passed, the run failed ENAMETOOLONG)', () => {
    const long = 'n'.repeat(101);
    expect(problems(`version: 1\ndata:\n  - { name: ${long}, local: a, remote: "file:///r" }\n`).join('\n')).toMatch(/must be at most 100 characters/);
    expect(problems(`version: 1\ndata:\n  - { name: ${'n'.repeat(100)}, local: a, remote: "file:///r" }\n`)).toEqual([]);
  });

  it('refuses a local remote that is the pair\'s own folder, inside it or around it, located (review 41: a push compared the folder with itself and said in sync)', () => {
    const pair = (local: string, remote: string): string => `version: 1\nremotes:\n  nas: { type: local, path: /lab }\ndata:\n  - { name: a, local: ${local}, remote: "${remote}" }\n`;
    expect(problems(pair('data', 'nas:data'))).toEqual(["labsync.yaml:4:37 data.a: the remote folder /lab/data is this pair's own folder: nothing would be copied anywhere"].map((m) => expect.stringContaining(m.slice(m.indexOf('the remote')))));
    expect(problems(pair('.', 'nas:data/backup')).join('\n')).toMatch(/the remote folder \/lab\/data\/backup is inside this pair's folder \/lab/);
    expect(problems(pair('data/x', 'file:///lab')).join('\n')).toMatch(/this pair's folder \/lab\/data\/x is inside its remote folder \/lab/);
    expect(problems(pair('data', 'nas:data-copy'))).toEqual([]);
    // Inside, but excluded from the pair: no part of what is copied (review 45).
    expect(problems(`version: 1\ndata:\n  - { name: a, local: ., remote: "file:///lab/.snap", exclude: ["/.snap/"] }\n`)).toEqual([]);
  });

  it('keeps a remote\'s sub-path under it, and a file URL at a folder (review 41: each had pointed a mirror elsewhere)', () => {
    const remotes = 'remotes:\n  nas: { type: local, path: /mnt/shared/lab }\n  s3: { type: s3, bucket: lab-bucket, prefix: lab }\n  gpu: { type: ssh, host: g, path: /p }\n';
    const pair = (remote: string): string => `version: 1\n${remotes}data:\n  - { name: a, local: a, remote: "${remote}" }\n`;
    // A leading slash is under the remote, as on ssh and S3 (it had been /processed itself).
    expect(loadManifestText(pair('nas:/processed'), FILE, {}).pairs[0]?.remote).toEqual({ type: 'local', path: '/mnt/shared/lab/processed' });
    // Normalised as before (review 44: a trailing slash had been kept, and the pair's history keyed anew).
    expect(loadManifestText(pair('nas:./raw/'), FILE, {}).pairs[0]?.remote).toEqual({ type: 'local', path: '/mnt/shared/lab/raw' });
    for (const sub of ['nas:../../../etc', 's3:../x', 'gpu:a/../../b']) expect(problems(pair(sub)).join('\n'), sub).toMatch(/a sub-path may not hold '\.\.' \(it would leave the remote/);
    // A remote named like a scheme does not take a URL as its sub-path.
    expect(loadManifestText(pair('s3://other-bucket/raw'), FILE, {}).pairs[0]?.remote).toEqual({ type: 's3', bucket: 'other-bucket', prefix: 'raw' });
    expect(problems(pair('file://backup/dir')).join('\n')).toMatch(/names the host 'backup': a file URL is file:\/\/\/absolute\/path/);
    expect(problems(pair('file://')).join('\n')).toMatch(/names no folder/);
    expect(problems(pair('file:///')).join('\n')).toMatch(/names no folder/);
    expect(loadManifestText(pair('file://localhost/srv/b'), FILE, {}).pairs[0]?.remote).toEqual({ type: 'local', path: '/srv/b' });
  });
});
