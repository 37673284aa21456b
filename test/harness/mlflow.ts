// A real `mlflow server` (3.17.2, from .tools/venvs/mlflow via scripts/ensure-tools.sh) on 127.0.0.1,
// one per test file: one worker, no job runner, telemetry off (TESTBED-models.md). It runs in a
// session of its own and is stopped as a group: its children outlive a SIGTERM to the parent alone.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { which } from '../../src/exec/which.js';
import { Lab } from './lab.js';
import { groupExited } from './processes.js';
import { freePort } from './sshd.js';
import { withTools } from './tools.js';

export interface MlflowServer { readonly pgid: number; readonly uri: string; readonly port: number; readonly dir: string }

/** The environment both the server and any client get: no telemetry, no retries that take minutes. */
export const MLFLOW_QUIET = { MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' };

export async function startMlflow(dir: string): Promise<MlflowServer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const log = openSync(join(dir, 'server.log'), 'a');
  // detached: node calls setsid() for the child, so the server and its workers form one group to stop.
  const child = spawn('mlflow', [
    'server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1',
    '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`, '--serve-artifacts', '--artifacts-destination', join(dir, 'artifacts'),
  ], {
    stdio: ['ignore', log, log], detached: true,
    env: { ...process.env, PATH: withTools(process.env.PATH), ...MLFLOW_QUIET, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' },
  });
  child.unref();
  const server = { pgid: child.pid as number, uri: `http://127.0.0.1:${port}`, port, dir };
  const deadline = Date.now() + 80_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${server.uri}/health`);
      if (r.ok) return server;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await stopMlflow(server);
  throw new Error(`mlflow server did not start on ${server.uri}:\n${readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000)}`);
}

/**
 * The whole session the server leads (its id is the server's pid): the server and its workers, killed
 * and gone (not just signalled) when this resolves, before the server's folder goes. Rejects naming what
 * is left if any of them outlives the SIGKILL by 10 s.
 */
export async function stopMlflow(server: MlflowServer): Promise<void> {
  try {
    process.kill(-server.pgid, 'SIGKILL');
  } catch {
    // already gone
  }
  await groupExited(server.pgid, 'the mlflow server', 10_000);
}

/** A REST call for setup and inspection (labsync's own client is what the tests exercise). */
export async function mlflowApi<T = Record<string, unknown>>(server: MlflowServer, method: 'GET' | 'POST', route: string, args: Record<string, unknown> = {}): Promise<T> {
  const query = method === 'GET' ? `?${new URLSearchParams(Object.entries(args).map(([k, v]) => [k, String(v)])).toString()}` : '';
  const r = await fetch(`${server.uri}/api/2.0/mlflow/${route}${query}`, method === 'GET' ? {} : { method, body: JSON.stringify(args), headers: { 'content-type': 'application/json' } });
  if (!r.ok) throw new Error(`${route}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Every version of `model`, newest first. */
export async function versionsOf(server: MlflowServer, model: string): Promise<{ version: string; run_id: string; tags?: { key: string; value: string }[] }[]> {
  const got = await mlflowApi<{ model_versions?: { version: string; run_id: string }[] }>(server, 'GET', 'model-versions/search', { filter: model.includes("'") ? `name="${model}"` : `name='${model}'` });
  return (got.model_versions ?? []).sort((a, b) => Number(b.version) - Number(a.version));
}

/** PUT over a file of a version's run through the artifact proxy: what a tamperer (or a bug) can do. */
export async function overwriteArtifact(server: MlflowServer, model: string, version: string, path: string, content: string): Promise<void> {
  const { artifact_uri: uri } = await mlflowApi<{ artifact_uri: string }>(server, 'GET', 'model-versions/get-download-uri', { name: model, version });
  const folder = uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\//, '');
  const r = await fetch(`${server.uri}/api/2.0/mlflow-artifacts/artifacts/${folder}/${path}`, { method: 'PUT', body: content });
  if (!r.ok) throw new Error(`PUT ${path}: HTTP ${r.status}`);
}

/** The newest version's files (path → content), read through the artifact proxy; {} when there is none. */
export async function newestContents(server: MlflowServer, model: string): Promise<Record<string, string>> {
  const [newest] = await versionsOf(server, model);
  if (!newest) return {};
  const { artifact_uri: uri } = await mlflowApi<{ artifact_uri: string }>(server, 'GET', 'model-versions/get-download-uri', { name: model, version: newest.version });
  const folder = uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\//, '');
  const out: Record<string, string> = {};
  const walk = async (under: string): Promise<void> => {
    const at = under ? `${folder}/${under}` : folder;
    const listed = (await (await fetch(`${server.uri}/api/2.0/mlflow-artifacts/artifacts?${new URLSearchParams({ path: at }).toString()}`)).json()) as { files?: { path: string; is_dir: boolean }[] };
    for (const f of listed.files ?? []) {
      const rel = under ? `${under}/${f.path.split('/').at(-1)}` : (f.path.split('/').at(-1) as string);
      if (f.is_dir) await walk(rel);
      else out[rel] = await (await fetch(`${server.uri}/api/2.0/mlflow-artifacts/artifacts/${[...folder.split('/'), ...rel.split('/')].map(encodeURIComponent).join('/')}`)).text();
    }
  };
  await walk('');
  return out;
}

/** A lab whose `models:` pair `clf` goes to `model` at `server` (or `uri`); the URI comes from the environment, as users write it. */
export function mlflowLab(server: MlflowServer, model: string, pair = '', uri?: string): Lab {
  const l = new Lab();
  l.env.MLFLOW_TRACKING_URI = uri ?? server.uri;
  Object.assign(l.env, MLFLOW_QUIET);
  l.manifest(`version: 1
defaults:
  retries: 0
remotes:
  reg: { type: mlflow, tracking_uri: "\${MLFLOW_TRACKING_URI}", model: ${model}, experiment: labsync-tests }
models:
  - name: clf
    local: models/clf
    remote: reg
${pair}`);
  return l;
}

/** The artifact folder of a version (through the proxy), for changing it behind labsync's back. */
export async function versionArtifacts(server: MlflowServer, model: string, version: string): Promise<string> {
  const { artifact_uri: uri } = await mlflowApi<{ artifact_uri: string }>(server, 'GET', 'model-versions/get-download-uri', { name: model, version });
  return `${server.uri}/api/2.0/mlflow-artifacts/artifacts/${uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\//, '')}`;
}

/**
 * A version registered as another client (the mlflow library) does: the files under the run's model/,
 * no SHA256SUMS beside them; `alias` pointed at it. Returns the version number.
 */
export async function registerAsOthersDo(server: MlflowServer, model: string, files: Record<string, string>, alias?: string): Promise<number> {
  const exp = await mlflowApi<{ experiment_id: string }>(server, 'POST', 'experiments/create', { name: `others-${model}-${Date.now()}` });
  const run = await mlflowApi<{ run: { info: { run_id: string; artifact_uri: string } } }>(server, 'POST', 'runs/create', { experiment_id: exp.experiment_id, start_time: Date.now() });
  const folder = run.run.info.artifact_uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\//, '');
  for (const [path, content] of Object.entries(files)) {
    const r = await fetch(`${server.uri}/api/2.0/mlflow-artifacts/artifacts/${folder}/model/${path}`, { method: 'PUT', body: content });
    if (!r.ok) throw new Error(`PUT ${path}: HTTP ${r.status}`);
  }
  await mlflowApi(server, 'POST', 'runs/update', { run_id: run.run.info.run_id, status: 'FINISHED', end_time: Date.now() });
  await mlflowApi(server, 'POST', 'registered-models/create', { name: model }).catch(() => undefined);
  const made = await mlflowApi<{ model_version: { version: string } }>(server, 'POST', 'model-versions/create', { name: model, source: `${run.run.info.artifact_uri}/model`, run_id: run.run.info.run_id });
  if (alias) await mlflowApi(server, 'POST', 'registered-models/alias', { name: model, alias, version: made.model_version.version });
  return Number(made.model_version.version);
}

/** Whether mlflow is installed (scripts/ensure-tools.sh test puts 3.17.2 in .tools/venvs/mlflow); CI must have it. */
export async function mlflowInstalled(): Promise<boolean> {
  const installed = Boolean(await which('mlflow', withTools(process.env.PATH)));
  if (!installed && process.env.CI) throw new Error('mlflow is missing: run the tests through `npm test`, which installs it');
  return installed;
}

/** A real `mlflow server` for the enclosing describe: started before its tests, stopped after; read it in the tests. */
export function useMlflowServer(): MlflowServer {
  let server: MlflowServer | undefined;
  const scratch = new Lab('labsync-mlflow-server-');
  beforeAll(async () => {
    server = await startMlflow(scratch.outside('server'));
  });
  afterAll(async () => {
    if (server) await stopMlflow(server);
  });
  const started = (): MlflowServer => {
    if (!server) throw new Error('the mlflow server is read before it started (outside a test)');
    return server;
  };
  return { get pgid() { return started().pgid; }, get uri() { return started().uri; }, get port() { return started().port; }, get dir() { return started().dir; } };
}
