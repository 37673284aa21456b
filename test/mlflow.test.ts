// MLflow model registry pairs against a real `mlflow server` 3.17.2 on 127.0.0.1 (one per file).
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { mlflowApi, mlflowInstalled, mlflowLab, overwriteArtifact, registerAsOthersDo, useMlflowServer, versionsOf, type MlflowServer } from './harness/mlflow.js';
import { freePort } from './harness/sshd.js';

interface Pair {
  status: string; error: string | null; files: number; bytes: number; attempts: number; commands: string[];
  record?: { model: string; version: number | null; alias: string | null };
  verify: { status: string; checked: number; changed: string[]; missing: string[]; extra: string[] } | null;
  changes?: { transfer: string[]; delete: string[] };
}
interface Doc { pairs: Pair[] }

const installed = await mlflowInstalled();

let models = 0;
const modelName = (): string => `clf-${process.pid}-${++models}`;

describe.skipIf(!installed)('mlflow model registry (mlflow server 3.17.2 on 127.0.0.1)', () => {
  const server = useMlflowServer();

  const lab = (model: string, pair = '', uri?: string): Lab => mlflowLab(server, model, pair, uri);
  const files = (l: Lab): void => {
    l.write(l.path('models/clf/config.json'), '{"layers": 3}\n');
    l.write(l.path('models/clf/with space.txt'), 'awkward name\n');
    l.write(l.path('models/clf/-dash.txt'), 'leading dash\n');
    l.write(l.path('models/clf/weights/big.bin'), randomBytes(12 * 1024 * 1024));
  };

  it('push registers a version (alias, tags, SHA256SUMS); a fresh folder pulls it by alias, byte for byte; the receipt names it', async () => {
    const model = modelName();
    const a = lab(model, '    alias: champion\n');
    files(a);
    const pushed = await a.cli(['models', 'push', '--json']);
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    const p = json<Doc>(pushed).pairs[0] as Pair;
    expect(p).toMatchObject({ status: 'ok', files: 4, record: { model, version: 1, alias: 'champion' }, verify: { status: 'in_sync', checked: 4 } });
    expect(p.bytes).toBeGreaterThan(12 * 1024 * 1024);
    const [v] = await versionsOf(server, model);
    expect(v?.version).toBe('1');
    const tags = Object.fromEntries((v?.tags ?? []).map((t) => [t.key, t.value]));
    expect(tags['labsync.pair']).toBe('clf');
    expect(tags['labsync.host']).toBeTruthy();
    const alias = await mlflowApi<{ model_version: { version: string } }>(server, 'GET', 'registered-models/alias', { name: model, alias: 'champion' });
    expect(alias.model_version.version).toBe('1');
    const receipts = readdirSync(a.path('.labsync/receipts'));
    expect(JSON.parse(readFileSync(a.path('.labsync/receipts', receipts[0] as string), 'utf8'))).toMatchObject({ registry: { model, version: 1, alias: 'champion' } });

    const b = lab(model, '    mode: pull\n    alias: champion\n');
    const pulled = await b.cli(['models', 'pull', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
    expect(json<Doc>(pulled).pairs[0]).toMatchObject({ status: 'ok', files: 4, record: { model, version: 1, alias: 'champion' }, verify: { status: 'in_sync' } });
    expect(readFileSync(b.path('models/clf/weights/big.bin')).equals(readFileSync(a.path('models/clf/weights/big.bin')))).toBe(true);
    expect(Object.keys(b.tree(b.path('models/clf'))).sort()).toEqual(Object.keys(a.tree(a.path('models/clf'))).sort());
    // The list the version carries is the one `labsync sums` writes, so `sha256sum -c` reads it too.
    const sums = await execa('sha256sum', ['-c', '--quiet', '-'], { cwd: b.path('models/clf'), input: await sumsOf(server, model, '1'), reject: false });
    expect(sums.exitCode, sums.stdout + sums.stderr).toBe(0);
  });

  it('a no-op push makes no version; one changed file makes exactly one; a pull by version reads the old one', async () => {
    const model = modelName();
    const a = lab(model);
    a.write(a.path('models/clf/w.bin'), 'one');
    expect((await a.cli(['models', 'push'])).exitCode).toBe(0);
    const again = await a.cli(['models', 'push', '--json']);
    expect(again.exitCode).toBe(0);
    expect(json<Doc>(again).pairs[0]).toMatchObject({ status: 'ok', files: 0, record: { model, version: 1 } });
    expect((await versionsOf(server, model)).length).toBe(1);
    expect((await a.cli(['models', 'status'])).exitCode).toBe(0);

    a.write(a.path('models/clf/w.bin'), 'two!');
    expect((await a.cli(['models', 'status'])).exitCode).toBe(4);
    const changed = await a.cli(['models', 'push', '--json']);
    expect(changed.exitCode, changed.stdout + changed.stderr).toBe(0);
    expect(json<Doc>(changed).pairs[0]?.record).toMatchObject({ version: 2 });
    expect((await versionsOf(server, model)).map((v) => v.version)).toEqual(['2', '1']);

    const old = lab(model, '    mode: pull\n    version: 1\n');
    expect((await old.cli(['models', 'pull'])).exitCode).toBe(0);
    expect(readFileSync(old.path('models/clf/w.bin'), 'utf8')).toBe('one');
    // A pull deletes nothing of the user's unless the pair says delete: true (a push's default only).
    old.write(old.path('models/clf/notes.txt'), 'mine');
    const kept = await old.cli(['models', 'pull', '--json']);
    expect(kept.exitCode, kept.stdout + kept.stderr).toBe(0);
    expect(readFileSync(old.path('models/clf/notes.txt'), 'utf8')).toBe('mine');
    // The same for `models pull` of the push pair itself (one pair, pushed on one machine, pulled on others).
    a.write(a.path('models/clf/notes.txt'), 'also mine');
    const pulledHere = await a.cli(['models', 'pull', '--json']);
    expect(pulledHere.exitCode, pulledHere.stdout + pulledHere.stderr).toBe(0);
    expect(json<Doc>(pulledHere).pairs[0]?.changes?.delete ?? []).toEqual([]);
    expect(readFileSync(a.path('models/clf/notes.txt'), 'utf8')).toBe('also mine');
  });

  it('dry run lists the files and registers nothing', async () => {
    const model = modelName();
    const a = lab(model);
    files(a);
    const r = await a.cli(['models', 'push', '--dry-run', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'planned' });
    expect([...(json<Doc>(r).pairs[0]?.changes?.transfer ?? [])].sort()).toEqual(['-dash.txt', 'config.json', 'weights/big.bin', 'with space.txt']);
    expect(await versionsOf(server, model)).toEqual([]);
    await expect(mlflowApi(server, 'GET', 'registered-models/get', { name: model })).rejects.toThrow(/RESOURCE_DOES_NOT_EXIST/);
  });

  it('a tampered artifact: another size is caught by check from the listing; the same size by check --full and by a pull, which writes nothing', async () => {
    const model = modelName();
    const a = lab(model);
    a.write(a.path('models/clf/a.bin'), 'original-a').write(a.path('models/clf/b.bin'), 'original-b');
    expect((await a.cli(['models', 'push'])).exitCode).toBe(0);
    expect((await a.cli(['check', 'models'])).exitCode).toBe(0);

    await overwriteArtifact(server, model, '1', 'a.bin', 'tampered, and longer');
    const listed = await a.cli(['check', 'models', '--json']);
    expect(listed.exitCode, listed.stdout + listed.stderr).toBe(4);
    expect(json<Doc>(listed).pairs[0]?.verify?.changed).toEqual(['a.bin']);

    await overwriteArtifact(server, model, '1', 'a.bin', 'original-a');
    await overwriteArtifact(server, model, '1', 'b.bin', 'TAMPERED-b');
    expect((await a.cli(['check', 'models'])).exitCode).toBe(0); // same size, listed sums unchanged: only bytes tell
    const full = await a.cli(['check', 'models', '--full', '--json']);
    expect(full.exitCode, full.stdout + full.stderr).toBe(4);
    expect(json<Doc>(full).pairs[0]?.verify?.changed).toEqual(['b.bin']);

    const b = lab(model, '    mode: pull\n');
    const pulled = await b.cli(['models', 'pull', '--json']);
    expect(pulled.exitCode).toBe(1);
    expect(json<Doc>(pulled).pairs[0]?.error).toMatch(/b\.bin of version 1 does not match its SHA256SUMS/);
    expect(existsSync(b.path('models/clf/b.bin'))).toBe(false);
  });

  it('a corrupted local copy (same size) is caught by check', async () => {
    const model = modelName();
    const a = lab(model);
    a.write(a.path('models/clf/w.bin'), 'weights-v1');
    expect((await a.cli(['models', 'push'])).exitCode).toBe(0);
    const b = lab(model, '    mode: pull\n');
    expect((await b.cli(['models', 'pull'])).exitCode).toBe(0);
    writeFileSync(b.path('models/clf/w.bin'), 'weights-XX');
    const r = await b.cli(['check', 'models', '--json']);
    expect(r.exitCode).toBe(4);
    expect(json<Doc>(r).pairs[0]?.verify?.changed).toEqual(['w.bin']);
  });

  it('missing model, alias or version: exit 1, the error names it, nothing written locally', async () => {
    const model = modelName();
    const seed = lab(model, '    alias: prod\n');
    seed.write(seed.path('models/clf/w.bin'), 'w');
    expect((await seed.cli(['models', 'push'])).exitCode).toBe(0);
    const cases: [string, string, RegExp][] = [
      [`no-such-${model}`, '    mode: pull\n', /registered model 'no-such-clf-\d+-\d+' not found/],
      [model, '    mode: pull\n    alias: nope\n', new RegExp(`alias 'nope' of model '${model}' not found`)],
      [model, '    mode: pull\n    version: 9\n', new RegExp(`version 9 of model '${model}' not found`)],
    ];
    for (const [name, pair, said] of cases) {
      const l = lab(name, pair);
      const r = await l.cli(['models', 'pull', '--json']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(json<Doc>(r).pairs[0]?.error).toMatch(said);
      expect(existsSync(l.path('models'))).toBe(false);
    }
  });

  it('a dead server fails in a bounded number of attempts (exit 1), each refused at once', async () => {
    const port = await freePort();
    const a = lab(modelName(), '    retries: 1\n    retry_delay: 100ms\n', `http://127.0.0.1:${port}`);
    a.write(a.path('models/clf/w.bin'), 'w');
    const r = await a.cli(['models', 'push', '--json']);
    expect(r.exitCode).toBe(1);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'failed', attempts: 2 });
    expect(json<Doc>(r).pairs[0]?.error).toMatch(/cannot reach the MLflow server \(ECONNREFUSED\)/);
  });

  it('a server that accepts but never answers fails after LABSYNC_MLFLOW_TIMEOUT_MS per attempt, then the retries (exit 1)', async () => {
    const sockets: Socket[] = [];
    let requests = 0;
    const silent = createServer((s) => {
      sockets.push(s);
      s.on('data', (d) => void (requests += String(d).split('\r\n').filter((l) => /^(GET|POST|PUT) /.test(l)).length));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as AddressInfo).port;
      const a = lab(modelName(), '    retries: 1\n    retry_delay: 100ms\n', `http://127.0.0.1:${port}`);
      a.write(a.path('models/clf/w.bin'), 'w');
      const r = await a.cli(['models', 'push', '--json'], { env: { LABSYNC_MLFLOW_TIMEOUT_MS: '1000' } });
      expect(r.exitCode).toBe(1);
      expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'failed', attempts: 2, error: expect.stringMatching(/no answer in time/) });
      expect(requests).toBe(2); // one request per attempt: no retries of the client's own under labsync's
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('the delete guard: a push that would drop most of the version is refused (exit 3) and registers nothing', async () => {
    const model = modelName();
    const a = lab(model);
    for (const n of ['a', 'b', 'c', 'd']) a.write(a.path(`models/clf/${n}.bin`), n);
    expect((await a.cli(['models', 'push'])).exitCode).toBe(0);
    for (const n of ['b', 'c', 'd']) unlinkSync(a.path(`models/clf/${n}.bin`));
    const r = await a.cli(['models', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(json<Doc>(r).pairs[0]?.status).toBe('refused');
    expect((await versionsOf(server, model)).length).toBe(1);
  });

  it('interrupted mid-upload: exit 130, the run is closed as FAILED, no version is registered', async () => {
    const model = modelName();
    const a = lab(model);
    a.manifest(readFileSync(a.path('labsync.yaml'), 'utf8').replace('experiment: labsync-tests', `experiment: interrupt-${model}`));
    a.write(a.path('models/clf/big.bin'), randomBytes(96 * 1024 * 1024));
    const child = a.spawn(['models', 'push', '--json']);
    const running = async (): Promise<{ info: { status: string } }[]> => {
      const exp = await mlflowApi<{ experiment: { experiment_id: string } }>(server, 'GET', 'experiments/get-by-name', { experiment_name: `interrupt-${model}` }).catch(() => undefined);
      if (!exp) return [];
      return (await mlflowApi<{ runs?: { info: { status: string } }[] }>(server, 'POST', 'runs/search', { experiment_ids: [exp.experiment.experiment_id] })).runs ?? [];
    };
    for (let i = 0; i < 600 && (await running()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(130);
    const runs = await running();
    expect(runs.map((x) => x.info.status)).toEqual(['FAILED']);
    expect(await versionsOf(server, model)).toEqual([]);
  });

  it('an alias that is not set (its call failed, or added to the manifest since) is set by the next push at the version holding the folder, registering none; one moved by hand stays where it was put', async () => {
    const model = modelName();
    const a = lab(model, '    alias: champion\n');
    a.write(a.path('models/clf/w.bin'), 'weights');
    expect((await a.cli(['models', 'push'])).exitCode).toBe(0);
    // What a failed alias call leaves: the version, no alias.
    const gone = await fetch(`${server.uri}/api/2.0/mlflow/registered-models/alias`, { method: 'DELETE', body: JSON.stringify({ name: model, alias: 'champion' }), headers: { 'content-type': 'application/json' } });
    expect(gone.ok, await gone.text()).toBe(true);
    // check and status say so; the files themselves are not called changed.
    const checked = await a.cli(['check', '--json']);
    expect(checked.exitCode, checked.stdout).toBe(4);
    expect(json<Doc>(checked).pairs[0]?.error).toMatch(/the alias @champion is not set/);
    expect((await a.cli(['models', 'status'])).exitCode).toBe(4);
    // check --full downloads the files, and still says the alias is not set.
    const full = await a.cli(['check', '--full', '--json']);
    expect(full.exitCode, full.stdout).toBe(4);
    expect(json<Doc>(full).pairs[0]?.error).toMatch(/the alias @champion is not set/);
    // A saved plan says what its apply will set (its files alone are "nothing to do").
    const saved = await a.cli(['plan', '--save', a.path('plan.json')]);
    expect(saved.exitCode, saved.stderr).toBe(0);
    expect(saved.stdout + saved.stderr).toMatch(/the alias @champion is not set .*the push would point it at version 1/);
    const dry = await a.cli(['models', 'push', '--dry-run']);
    expect(dry.stdout + dry.stderr).toMatch(/the alias @champion is not set .*the push would point it at version 1, which holds the folder/);
    const again = await a.cli(['models', 'push', '--json']);
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(json<Doc>(again).pairs[0]).toMatchObject({ status: 'ok', files: 0, record: { model, version: 1, alias: 'champion' } });
    expect((await a.cli(['check'])).exitCode).toBe(0);
    const at = async (): Promise<string> => (await mlflowApi<{ model_version: { version: string } }>(server, 'GET', 'registered-models/alias', { name: model, alias: 'champion' })).model_version.version;
    expect(await at()).toBe('1');
    expect((await versionsOf(server, model)).length).toBe(1);
    // A changed folder, the alias unset again: a new version, the alias on it.
    await fetch(`${server.uri}/api/2.0/mlflow/registered-models/alias`, { method: 'DELETE', body: JSON.stringify({ name: model, alias: 'champion' }), headers: { 'content-type': 'application/json' } });
    a.write(a.path('models/clf/w.bin'), 'weights v2');
    const changed = await a.cli(['models', 'push', '--json']);
    expect(json<Doc>(changed).pairs[0]).toMatchObject({ status: 'ok', record: { model, version: 2, alias: 'champion' } });
    expect(await at()).toBe('2');
    // Rolled back by hand to version 1: an unchanged folder's push leaves it there and registers nothing.
    await mlflowApi(server, 'POST', 'registered-models/alias', { name: model, alias: 'champion', version: '1' });
    const steady = await a.cli(['models', 'push', '--json']);
    expect(json<Doc>(steady).pairs[0]).toMatchObject({ status: 'ok', files: 0 });
    expect(await at()).toBe('1');
    expect((await versionsOf(server, model)).length).toBe(2);
  });

  it('a model name with an apostrophe finds its versions: a second push of the same folder registers none', async () => {
    const model = `o'brien-${process.pid}-${++models}`;
    const a = lab(model);
    a.write(a.path('models/clf/w.bin'), 'weights');
    expect((await a.cli(['models', 'push'])).exitCode).toBe(0);
    const again = await a.cli(['models', 'push', '--json']);
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(json<Doc>(again).pairs[0]).toMatchObject({ status: 'ok', files: 0, record: { model, version: 1 } });
    expect((await versionsOf(server, model)).length).toBe(1);
  });

  it('a saved plan goes stale (exit 3, nothing registered or written) when another version lands with the same names and sizes, or a planned file is rewritten at its size', async () => {
    const model = modelName();
    const a = lab(model, '    alias: champion\n');
    a.write(a.path('models/clf/w.bin'), 'AAAAAAAA');
    expect((await a.cli(['models', 'push'])).exitCode).toBe(0);
    // A pull planned from v1; a colleague's v2 (same name, same size) takes the alias before apply.
    const b = lab(model, '    mode: pull\n    alias: champion\n');
    expect((await b.cli(['plan', 'models', 'pull', '--save', 'plan.json'])).exitCode).toBe(0);
    await registerAsOthersDo(server, model, { 'w.bin': 'BBBBBBBB' }, 'champion');
    const pulled = await b.cli(['apply', 'plan.json', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(3);
    expect(json<Doc>(pulled).pairs[0]?.error).toMatch(/the plan is stale: the source .* changed/);
    expect(existsSync(b.path('models/clf/w.bin'))).toBe(false);
    // A push planned from a reviewed file that is then rewritten at its size, a newer mtime.
    a.write(a.path('models/clf/w.bin'), 'REVIEWED');
    expect((await a.cli(['plan', 'models', 'push', '--save', 'plan.json'])).exitCode).toBe(0);
    a.write(a.path('models/clf/w.bin'), 'UNSEEN!!');
    utimesSync(a.path('models/clf/w.bin'), new Date(), new Date(Date.now() + 5000));
    const pushed = await a.cli(['apply', 'plan.json', '--json']);
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(3);
    expect((await versionsOf(server, model)).length).toBe(2);
    // A push planned against v2, then another version registered before apply: stale too.
    expect((await a.cli(['plan', 'models', 'push', '--save', 'plan.json'])).exitCode).toBe(0);
    await registerAsOthersDo(server, model, { 'w.bin': 'CCCCCCCC' });
    expect((await a.cli(['apply', 'plan.json'])).exitCode).toBe(3);
    expect((await versionsOf(server, model)).length).toBe(3);
  });

  it('a password planted in the tracking URI appears nowhere: output, JSON, logs, state, receipts', async () => {
    const secret = 'planted-mlflow-pw-93x';
    const model = modelName();
    const a = lab(model, '', server.uri.replace('http://', `http://labsync:${secret}@`));
    // A token in the environment too (the server, without auth, ignores it; labsync must not show it).
    a.env.MLFLOW_TRACKING_TOKEN = `${secret}-token`;
    a.write(a.path('models/clf/w.bin'), 'w');
    const runs = [await a.cli(['models', 'push', '--json', '-v']), await a.cli(['plan', 'models']), await a.cli(['check', 'models', '--full'])];
    for (const r of runs) expect(r.stdout + r.stderr).not.toContain(secret);
    expect(runs[0]?.exitCode, runs[0]?.stderr).toBe(0);
    expect(json<Doc>(runs[0] as never).pairs[0]?.commands.join('\n')).toContain('labsync:***@127.0.0.1');
    const down = lab(model, '', `http://labsync:${secret}@127.0.0.1:${await freePort()}`);
    down.write(down.path('models/clf/w.bin'), 'w');
    const failed = await down.cli(['models', 'push', '--json']);
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout + failed.stderr).not.toContain(secret);
    for (const l of [a, down]) for (const file of walk(l.path('.labsync'))) expect(readFileSync(file, 'utf8'), file).not.toContain(secret);
  });
});

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

/** The SHA256SUMS a version carries, read straight from the artifact proxy. */
async function sumsOf(server: MlflowServer, model: string, version: string): Promise<string> {
  const { artifact_uri: uri } = await mlflowApi<{ artifact_uri: string }>(server, 'GET', 'model-versions/get-download-uri', { name: model, version });
  const folder = uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\//, '').replace(/\/model$/, '');
  return (await fetch(`${server.uri}/api/2.0/mlflow-artifacts/artifacts/${folder}/SHA256SUMS`)).text();
}
