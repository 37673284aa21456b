// MLflow pairs where the server's state or behaviour is wrong (a review's findings), against a real
// `mlflow server` 3.17.2 on 127.0.0.1, or a loopback socket that answers half a response.
import { existsSync, readdirSync, readFileSync, unlinkSync, utimesSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { mlflowApi, mlflowInstalled, mlflowLab, registerAsOthersDo, useMlflowServer, versionArtifacts, versionsOf, type MlflowServer } from './harness/mlflow.js';
import { startRelay } from './harness/relay.js';
import { until } from './harness/wait.js';

interface Pair { status: string; error: string | null; attempts: number; changes?: { transfer: string[]; delete: string[] } }
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

const installed = await mlflowInstalled();

let models = 0;
const modelName = (): string => `faults-${process.pid}-${++models}`;

describe.skipIf(!installed)('mlflow pairs and a server gone wrong (mlflow server 3.17.2 on 127.0.0.1)', () => {
  const server = useMlflowServer();
  const lab = (model: string, pair = '', uri?: string): Lab => mlflowLab(server, model, pair, uri);

  it('a pull of a version whose artifact was deleted on the server since it was registered fails naming it, and deletes no local copy', async () => {
    const model = modelName();
    const a = lab(model);
    a.write(a.path('models/clf/a.bin'), 'a').write(a.path('models/clf/b.bin'), 'b');
    expect((await a.cli(['models', 'push'])).exitCode).toBe(0);
    const b = lab(model, '    mode: pull\n');
    expect((await b.cli(['models', 'pull'])).exitCode).toBe(0);
    const gone = await fetch(`${await versionArtifacts(server, model, '1')}/b.bin`, { method: 'DELETE' });
    expect(gone.ok).toBe(true);
    const r = await b.cli(['models', 'pull', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(pairOf(r).error).toMatch(/version 1 of model '.*' was registered with 1 file its artifacts no longer hold \(b\.bin;/);
    expect(b.tree(b.path('models/clf'))).toEqual({ 'a.bin': 'a', 'b.bin': 'b' });
  });

  it('names the artifact proxy cannot keep (%XX decoded twice, #) are refused before any run is made: no broken version, nothing registered', async () => {
    const model = modelName();
    const a = lab(model);
    a.write(a.path('models/clf/a%20b.txt'), 'escaped').write(a.path('models/clf/ok.txt'), 'fine');
    const before = await runsIn(server, 'labsync-tests');
    const r = await a.cli(['models', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(pairOf(r).error).toMatch(/MLflow's artifact proxy cannot store a file named "a%20b\.txt" .*rename or exclude it; nothing was uploaded/);
    expect(await versionsOf(server, model)).toEqual([]);
    expect(await runsIn(server, 'labsync-tests')).toBe(before);
  });

  it('an experiment whose artifacts are not proxied: the push fails naming its artifact location, and its run is closed FAILED, not left RUNNING', async () => {
    const model = modelName();
    const experiment = `plain-files-${process.pid}`;
    await mlflowApi(server, 'POST', 'experiments/create', { name: experiment, artifact_location: `file://${server.dir}/plain-${process.pid}` });
    const a = lab(model);
    a.manifest(readFileSync(a.path('labsync.yaml'), 'utf8').replace('experiment: labsync-tests', `experiment: ${experiment}`));
    a.write(a.path('models/clf/w.bin'), 'w');
    const r = await a.cli(['models', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(pairOf(r).error).toMatch(/the files are at file:\/\/.*an experiment whose artifact location is mlflow-artifacts:/);
    const runs = await mlflowApi<{ runs?: { info: { status: string } }[] }>(server, 'POST', 'runs/search', { experiment_ids: [await experimentIdOf(server, experiment)] });
    expect((runs.runs ?? []).map((run) => run.info.status)).toEqual(['FAILED']);
    expect(await versionsOf(server, model)).toEqual([]);
  });

  it('a file deleted while the push uploads (a trainer rotating checkpoints): the run is closed FAILED naming the file, not retried as a network failure, no version, never a crash', async () => {
    const model = modelName();
    // 200 kB/s between labsync and the server: the first file's upload takes ~3 s, the second is read after.
    const relay = await startRelay(server.port, 200_000);
    try {
      const a = lab(model, '', `http://127.0.0.1:${relay.port}`);
      a.write(a.path('models/clf/a.bin'), randomBytes(600_000)).write(a.path('models/clf/b.txt'), 'rotated away');
      const run = a.cli(['models', 'push', '--json']);
      await until('the first upload under way', () => relay.bytes.up > 100_000, 30_000);
      unlinkSync(a.path('models/clf/b.txt'));
      const r = await run;
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(pairOf(r).error).toMatch(/cannot read b\.txt/);
      expect(pairOf(r).error).not.toMatch(/cannot reach/);
      expect(r.stderr).not.toMatch(/Unhandled|emitErrorNT/);
      const runs = await mlflowApi<{ runs?: { info: { status: string; run_name: string } }[] }>(server, 'POST', 'runs/search', { experiment_ids: [await experimentIdOf(server, 'labsync-tests')], max_results: 1000 });
      expect((runs.runs ?? []).filter((x) => x.info.status === 'RUNNING')).toEqual([]);
      expect(await versionsOf(server, model)).toEqual([]);
    } finally {
      await relay.close();
    }
  });

  it('a version another client registered (no SHA256SUMS): a new one of the same sizes is pulled (status says drift), the same one is not fetched again', async () => {
    const model = modelName();
    await registerAsOthersDo(server, model, { 'weights.bin': 'AAAAAAAA' }, 'prod');
    const b = lab(model, '    mode: pull\n    alias: prod\n');
    expect((await b.cli(['models', 'pull'])).exitCode).toBe(0);
    expect(b.tree(b.path('models/clf'))).toEqual({ 'weights.bin': 'AAAAAAAA' });
    const again = await b.cli(['models', 'pull', '--json']);
    expect(pairOf(again)).toMatchObject({ status: 'ok', changes: { transfer: [] } });
    // Retrained: the same size, other bytes; the alias moves to it.
    await registerAsOthersDo(server, model, { 'weights.bin': 'BBBBBBBB' }, 'prod');
    expect((await b.cli(['models', 'status'])).exitCode).toBe(4);
    // Part files of a pull killed outright (no handler ran, untouched for hours) go with the next pull; a fresh one (a live pull's) stays.
    b.write(b.path('models/clf/.labsync-part-4194303-weights.bin'), 'AAAA').write(b.path(`models/clf/.labsync-part-${process.pid}-x.bin`), 'live');
    const hoursAgo = new Date(Date.now() - 3 * 3600_000);
    utimesSync(b.path('models/clf/.labsync-part-4194303-weights.bin'), hoursAgo, hoursAgo);
    const pulled = await b.cli(['models', 'pull', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
    expect(pairOf(pulled)).toMatchObject({ status: 'ok', changes: { transfer: ['weights.bin'] } });
    expect(b.tree(b.path('models/clf'))).toEqual({ 'weights.bin': 'BBBBBBBB', [`.labsync-part-${process.pid}-x.bin`]: 'live' });
    expect(pairOf(await b.cli(['models', 'pull', '--json']))).toMatchObject({ status: 'ok', changes: { transfer: [] } });
  });

  it('a push over a newest version without SHA256SUMS registers the folder once (equal sizes prove nothing), then none', async () => {
    const model = modelName();
    await registerAsOthersDo(server, model, { 'weights.bin': 'AAAAAAAA' });
    const a = lab(model);
    a.write(a.path('models/clf/weights.bin'), 'CCCCCCCC');
    const pushed = await a.cli(['models', 'push', '--json']);
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).toBe(0);
    expect(pairOf(pushed)).toMatchObject({ status: 'ok', changes: { transfer: ['weights.bin'] } });
    expect((await versionsOf(server, model)).length).toBe(2);
    expect(pairOf(await a.cli(['models', 'push', '--json']))).toMatchObject({ status: 'ok', changes: { transfer: [] } });
    expect((await versionsOf(server, model)).length).toBe(2);
  });

  for (const route of ['model-versions/create', 'registered-models/alias']) {
    it(`a push whose ${route} the server carried out but whose answer was lost (503) is retried without a second version, the alias set`, async () => {
      const lossy = await losingAnswer(server, `/api/2.0/mlflow/${route}`);
      try {
        const model = modelName();
        const a = lab(model, '    alias: prod\n    retries: 1\n    retry_delay: 100ms\n', lossy.uri);
        a.write(a.path('models/clf/w.bin'), 'weights');
        const r = await a.cli(['models', 'push', '--json']);
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        expect(pairOf(r)).toMatchObject({ status: 'ok', attempts: 2 });
        expect(lossy.lost()).toBe(1);
        expect((await versionsOf(server, model)).map((v) => v.version)).toEqual(['1']);
        const alias = await mlflowApi<{ model_version: { version: string } }>(server, 'GET', 'registered-models/alias', { name: model, alias: 'prod' });
        expect(alias.model_version.version).toBe('1');
      } finally {
        lossy.close();
      }
    });
  }

  it('a pull stopped mid-download leaves no partial file in the folder', async () => {
    const model = modelName();
    const a = lab(model);
    a.write(a.path('models/clf/big.bin'), randomBytes(200 * 1024 * 1024));
    expect((await a.cli(['models', 'push'])).exitCode).toBe(0);
    const b = lab(model, '    mode: pull\n');
    const child = b.spawn(['models', 'pull']);
    const parts = (): string[] => (existsSync(b.path('models/clf')) ? readdirSync(b.path('models/clf')).filter((n) => n.startsWith('.labsync-part-')) : []);
    await until('the download to begin', () => parts().length > 0, 60_000);
    child.kill('SIGINT');
    const done = await child;
    expect(done.exitCode, String(done.stderr)).toBe(130);
    expect(parts()).toEqual([]);
    expect(existsSync(b.path('models/clf/big.bin'))).toBe(false);
  }, 120_000);
});

/** A proxy to `server` that carries out the first POST to `path` and answers it 503, as if its answer were lost. */
async function losingAnswer(server: MlflowServer, path: string): Promise<{ uri: string; lost: () => number; close: () => void }> {
  const http = await import('node:http');
  let lost = 0;
  const proxy = http.createServer((req, res) => {
    const out = http.request({ host: '127.0.0.1', port: server.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (req.method === 'POST' && (req.url ?? '').split('?')[0] === path && lost === 0) {
        lost += 1;
        answer.resume();
        res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream answer lost');
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
  return { uri: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, lost: () => lost, close: () => void proxy.close() };
}

describe('mlflow: a server that answers its headers and then stops', () => {
  it('fails within LABSYNC_MLFLOW_TIMEOUT_MS, not the pair\'s timeout (the body is read within the same bound)', async () => {
    const sockets: Socket[] = [];
    const half = createServer((s) => {
      sockets.push(s);
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"registered_model": {"na'));
    });
    await new Promise<void>((r) => half.listen(0, '127.0.0.1', r));
    try {
      const a = mlflowLab({ uri: '' } as MlflowServer, 'm', '    mode: pull\n', `http://127.0.0.1:${(half.address() as AddressInfo).port}`); // no real server: the URI given
      const r = await a.cli(['models', 'pull', '--json'], { env: { LABSYNC_MLFLOW_TIMEOUT_MS: '1000' } });
      expect(r.exitCode).toBe(1);
      expect(pairOf(r)).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/cannot reach the MLflow server \(no answer in time\)/) });
    } finally {
      for (const s of sockets) s.destroy();
      half.close();
    }
  }, 60_000);
});

async function experimentIdOf(server: MlflowServer, name: string): Promise<string> {
  return (await mlflowApi<{ experiment: { experiment_id: string } }>(server, 'GET', 'experiments/get-by-name', { experiment_name: name })).experiment.experiment_id;
}

/** How many runs the experiment holds (0 before it exists). */
async function runsIn(server: MlflowServer, name: string): Promise<number> {
  const id = await experimentIdOf(server, name).catch(() => undefined);
  if (id === undefined) return 0;
  return ((await mlflowApi<{ runs?: unknown[] }>(server, 'POST', 'runs/search', { experiment_ids: [id], max_results: 1000 })).runs ?? []).length;
}
