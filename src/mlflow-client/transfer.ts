// Moving a folder to a new model version and a version's files back, each byte hashed as it passes.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sumsLine } from '../verify/sums-file.js';
import { walkTree } from '../verify/stat-tree.js';
import { FILES_DIR, fileUrl, filterString, proxyPath, readSums, SUMS_NAME, wantedVersion, versionFolder, type Version } from './registry.js';
import { api, ClientError, EXIT_TRANSIENT, failure, idleGuard, request, type Server } from './rest.js';

/** A line the adapter's parseProgress reads, so the stall watchdog sees a long upload move. */
export const progressLine = (bytes: number, files: number): string => `progress bytes=${bytes} files=${files}\n`;

function hashing(hash: ReturnType<typeof createHash>, moved: { bytes: number; files: number }): Transform {
  let last = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      moved.bytes += chunk.length;
      if (moved.bytes - last >= 4 * 1024 * 1024) {
        last = moved.bytes;
        process.stderr.write(progressLine(moved.bytes, moved.files));
      }
      done(null, chunk);
    },
  });
}

async function put(server: Server, url: string, body: Readable | string, what: string): Promise<void> {
  const res = await request(server, 'PUT', url, typeof body === 'string' ? Buffer.from(body) : body, what);
  if (!res.ok) throw await failure(res, what);
  await res.arrayBuffer();
}

async function experimentId(server: Server, name: string): Promise<string> {
  try {
    const got = await api<{ experiment: { experiment_id: string } }>(server, 'GET', 'experiments/get-by-name', { experiment_name: name }, `find experiment '${name}'`);
    return got.experiment.experiment_id;
  } catch (error) {
    if (!(error instanceof ClientError) || error.code !== 'RESOURCE_DOES_NOT_EXIST') throw error;
  }
  const made = await api<{ experiment_id: string }>(server, 'POST', 'experiments/create', { name }, `create experiment '${name}'`);
  return made.experiment_id;
}

export interface PushArgs {
  dir: string; model: string; experiment: string; alias?: string; excludes: string[]; tags: Record<string, string>;
  /** The same for every attempt of one labsync run's push: a retry finds the run an earlier attempt finished. */
  pushId?: string;
}

/**
 * A run in `experiment` holding the folder under model/ and SHA256SUMS beside it, registered as the
 * next version of `model`, `alias` pointed at it. The run is marked FAILED when an upload fails, so a
 * half-uploaded run is never registered.
 */
export async function push(server: Server, a: PushArgs): Promise<Record<string, unknown>> {
  const files = walkTree(a.dir, a.excludes);
  if (!files.length) throw new ClientError(`${a.dir} holds no files to register`, false);
  refuseUnstorable(files.map((f) => f.path));
  const exp = await experimentId(server, a.experiment);
  const tags = Object.entries({ ...a.tags, ...(a.pushId ? { [PUSH_TAG]: a.pushId } : {}) }).map(([key, value]) => ({ key, value }));
  // An earlier attempt of this push whose answer was lost (a timeout, a 503 after the server acted):
  // its run is registered (once) and aliased, not uploaded and registered again (a review saw two
  // versions of one folder, and an alias left behind).
  const earlier = a.pushId ? await resumed(server, a, exp, tags) : undefined;
  if (earlier) return earlier;
  // Stopped by labsync (Ctrl-C, timeout, stall): the run is closed as FAILED, never left RUNNING. The
  // handler is in place before the run is created: a SIGTERM while the create is answered is held until
  // the run's id is known (the run exists on the server the moment it answers).
  let runId: string | undefined;
  let stopping = false;
  const failRun = (id: string): Promise<unknown> => api(server, 'POST', 'runs/update', { run_id: id, status: 'FAILED', end_time: Date.now() }, 'mark the run failed');
  const stop = (): void => {
    stopping = true;
    if (runId) void failRun(runId).finally(() => process.exit(EXIT_TRANSIENT));
  };
  process.once('SIGTERM', stop);
  let created: { run: { info: { run_id: string; artifact_uri: string } } };
  try {
    created = await api<{ run: { info: { run_id: string; artifact_uri: string } } }>(server, 'POST', 'runs/create', {
      experiment_id: exp, run_name: `labsync-${a.tags['labsync.pair'] ?? 'push'}`, start_time: Date.now(), tags,
    }, `create a run in experiment '${a.experiment}'`);
  } catch (error) {
    process.off('SIGTERM', stop);
    throw error;
  }
  runId = created.run.info.run_id;
  if (stopping) {
    await failRun(runId).catch(() => undefined);
    process.exit(EXIT_TRANSIENT);
  }
  const moved = { bytes: 0, files: 0 };
  const lines: string[] = [];
  try {
    // In here: an experiment whose artifacts are not proxied fails the run it was made in, not leaves it RUNNING.
    const root = proxyPath(created.run.info.artifact_uri);
    for (const f of files) {
      const hash = createHash('sha256');
      const body = hashing(hash, moved);
      // pipe() passes no read error on: a file gone mid-push would end the client with an unhandled error, its run left RUNNING.
      // Gone (a trainer rotating checkpoints): transient, so a retry walks the folder again; unreadable: fatal.
      const read = createReadStream(join(a.dir, f.path)).on('error', (e: NodeJS.ErrnoException) => body.destroy(new ClientError(`cannot read ${f.path}: ${e.message}`, e.code === 'ENOENT')));
      read.pipe(body);
      await put(server, fileUrl(`${root}/${FILES_DIR}`, f.path), body, `upload ${f.path}`);
      lines.push(sumsLine(hash.digest('hex'), f.path));
      moved.files++;
      process.stderr.write(progressLine(moved.bytes, moved.files));
    }
    await put(server, fileUrl(root, SUMS_NAME), `${lines.join('\n')}\n`, `upload ${SUMS_NAME}`);
  } catch (error) {
    process.off('SIGTERM', stop);
    await failRun(runId).catch(() => undefined);
    throw error;
  }
  process.off('SIGTERM', stop);
  await api(server, 'POST', 'runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() }, 'finish the run');
  const version = await register(server, a, runId, created.run.info.artifact_uri, tags);
  return { model: a.model, version, alias: a.alias ?? null, runId, files: moved.files, bytes: moved.bytes };
}

/**
 * Names MLflow's artifact proxy cannot keep: it decodes a path's %XX escapes twice (`a%20b.txt` is stored
 * as `a b.txt`, and the version's SHA256SUMS then names a file it does not hold), refuses `#`, and 404s on
 * control characters. Refused before a run is made: the version would be registered, broken, on every push.
 */
export function refuseUnstorable(paths: readonly string[]): void {
  // eslint-disable-next-line no-control-regex
  const bad = paths.filter((p) => /%[0-9A-Fa-f]{2}|#|[\x00-\x1f\x7f]/.test(p));
  if (!bad.length) return;
  const shown = bad.slice(0, 3).map((p) => JSON.stringify(p)).join(', ');
  throw new ClientError(`MLflow's artifact proxy cannot store ${bad.length === 1 ? 'a file named' : `${bad.length} files named`} ${shown}${bad.length > 3 ? ', …' : ''} (it decodes % escapes twice, refuses # and control characters): rename or exclude ${bad.length === 1 ? 'it' : 'them'}; nothing was uploaded`, false);
}

/** The run's tag naming the labsync push that made it (PushArgs.pushId). */
const PUSH_TAG = 'labsync.push';

/** The finished run's version (made now if the earlier attempt stopped before), the alias pointed at it. */
async function register(server: Server, a: PushArgs, runId: string, artifactUri: string, tags: { key: string; value: string }[], existing?: number): Promise<number> {
  let version = existing;
  if (version === undefined) {
    try {
      await api(server, 'POST', 'registered-models/create', { name: a.model }, `register model '${a.model}'`);
    } catch (error) {
      if (!(error instanceof ClientError) || error.code !== 'RESOURCE_ALREADY_EXISTS') throw error;
    }
    const made = await api<{ model_version: { version: string } }>(server, 'POST', 'model-versions/create', {
      name: a.model, source: `${artifactUri}/${FILES_DIR}`, run_id: runId, tags, description: `pushed by labsync from ${hostname()}`,
    }, `create a version of model '${a.model}'`);
    version = Number(made.model_version.version);
  }
  if (a.alias) await api(server, 'POST', 'registered-models/alias', { name: a.model, alias: a.alias, version: String(version) }, `point alias '${a.alias}' at version ${version}`);
  return version;
}

/** This push's run as an earlier attempt finished it (uploads and SHA256SUMS in, marked FINISHED), carried to its end; undefined: none. */
async function resumed(server: Server, a: PushArgs, exp: string, tags: { key: string; value: string }[]): Promise<Record<string, unknown> | undefined> {
  const found = await api<{ runs?: { info: { run_id: string; status: string; artifact_uri: string } }[] }>(server, 'POST', 'runs/search', {
    experiment_ids: [exp], filter: `tags.\`${PUSH_TAG}\` = ${filterString(a.pushId as string)}`, max_results: 10,
  }, `look for an earlier attempt of this push`);
  const run = found.runs?.find((r) => r.info.status === 'FINISHED');
  if (!run) return undefined;
  // By run alone, the model's name checked here: older servers take one expression in this filter.
  const versions = await api<{ model_versions?: { name: string; version: string }[] }>(server, 'GET', 'model-versions/search', {
    filter: `run_id=${filterString(run.info.run_id)}`,
  }, `look for the version of run ${run.info.run_id}`);
  const had = versions.model_versions?.find((v) => v.name === a.model);
  const version = await register(server, a, run.info.run_id, run.info.artifact_uri, tags, had ? Number(had.version) : undefined);
  return { model: a.model, version, alias: a.alias ?? null, runId: run.info.run_id, files: 0, bytes: 0, resumed: true };
}

/** Streams one file of `folder`, hashing it; `to` undefined: only hashed (check --full). */
async function fetchFile(server: Server, folder: string, path: string, to: string | undefined, moved: { bytes: number; files: number }): Promise<string> {
  const res = await request(server, 'GET', fileUrl(folder, path), undefined, `download ${path}`, { stream: true });
  if (!res.ok || !res.body) throw await failure(res, `download ${path}`);
  const hash = createHash('sha256');
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  const hashed = hashing(hash, moved);
  await pipeline(body, idleGuard(server.timeoutMs, `download ${path}`), hashed, to ? createWriteStream(to) : new Writable({ write: (_c, _e, done) => done() }));
  moved.files++;
  return hash.digest('hex');
}

export interface PullArgs { dir: string; model: string; alias?: string; version?: number; paths: string[] }

/**
 * The planned files of the version, each written beside its place and renamed into it only once its
 * bytes match the version's SHA256SUMS: a tampered or truncated artifact never lands in the folder.
 */
export async function pull(server: Server, a: PullArgs): Promise<Record<string, unknown>> {
  const v: Version = await wantedVersion(server, a.model, a);
  const folder = await versionFolder(server, a.model, v);
  const sums = await readSums(server, folder);
  const moved = { bytes: 0, files: 0 };
  const unchecked: string[] = [];
  // Stopped (the stall watchdog, Ctrl-C): the file being written goes with the process, never left in
  // the user's folder (a review found one; a later push of the folder would have sent it).
  let writing: string | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    if (writing) rmSync(writing, { force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    sweepParts(new Set(a.paths.map((p) => dirname(join(a.dir, p)))));
    for (const path of a.paths) await pullOne(path);
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
  return { model: a.model, version: v.version, alias: a.alias ?? null, runId: v.runId, files: moved.files, bytes: moved.bytes, unchecked };

  async function pullOne(path: string): Promise<void> {
    const target = join(a.dir, path);
    const part = join(dirname(target), `.labsync-part-${process.pid}-${path.slice(path.lastIndexOf('/') + 1)}`);
    await mkdir(dirname(target), { recursive: true });
    writing = part;
    try {
      const got = await fetchFile(server, folder, path, part, moved);
      const want = sums?.get(path);
      if (want && want !== got) throw new ClientError(`${path} of version ${v.version} does not match its ${SUMS_NAME} (sha256 ${got}, listed ${want}): the artifact was changed after registration`, false);
      if (!want) unchecked.push(path);
      await rename(part, target);
    } finally {
      writing = undefined;
      await rm(part, { force: true });
    }
    process.stderr.write(progressLine(moved.bytes, moved.files));
  }
}

/** A part file untouched this long was left by a pull that died (a live one writes on, or its stall watchdog stops it far sooner). */
const PART_LEFT_MS = 60 * 60_000;

/**
 * Part files a killed pull left (SIGKILL, power loss: no handler ran) in the folders this pull writes to,
 * else there for good (the pair excludes them). Judged by age, not PID: the folder may be shared with
 * another host or container, whose PIDs mean nothing here.
 */
function sweepParts(dirs: ReadonlySet<string>): void {
  const before = Date.now() - PART_LEFT_MS;
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue; // not made yet
    }
    for (const name of names) {
      if (!name.startsWith('.labsync-part-')) continue;
      try {
        if (statSync(join(dir, name)).mtimeMs < before) rmSync(join(dir, name), { force: true });
      } catch {
        // gone meanwhile
      }
    }
  }
}

/** check --full: every file of the version downloaded (not kept) and hashed. */
export async function hashRemote(server: Server, model: string, v: Version, folder: string, paths: readonly string[]): Promise<{ path: string; size: number; sha256: string }[]> {
  const moved = { bytes: 0, files: 0 };
  const files: { path: string; size: number; sha256: string }[] = [];
  for (const path of paths) {
    const before = moved.bytes;
    files.push({ path, sha256: await fetchFile(server, folder, path, undefined, moved), size: moved.bytes - before });
  }
  return files;
}
