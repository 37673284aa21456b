// Which version a pair means, and where its files are: the registry's answers, read through the
// server's artifact proxy (`mlflow server --serve-artifacts`), so labsync needs no store credentials.
import { parseSums } from '../verify/sums-file.js';
import { api, ClientError, failure, request, type Server } from './rest.js';

/** The run's artifacts: the files under `model/`, their checksum list beside it. */
export const FILES_DIR = 'model';
export const SUMS_NAME = 'SHA256SUMS';

export interface Version { readonly version: number; readonly runId: string; readonly source: string }
export interface RemoteFile { readonly path: string; readonly size: number; readonly sha256?: string }

interface RawVersion { version: string; run_id?: string; source?: string; status?: string }

const toVersion = (v: RawVersion): Version => ({ version: Number(v.version), runId: v.run_id ?? '', source: v.source ?? '' });

/**
 * A string in an MLflow search filter. Its parser takes no backslash escapes (`'o\\'brien'` matched
 * nothing, so every push registered another version): a value with `'` is quoted with `"` instead.
 */
export function filterString(s: string): string {
  if (!s.includes("'")) return `'${s}'`;
  if (!s.includes('"')) return `"${s}"`;
  throw new ClientError(`${s} holds both ' and ": MLflow's search cannot name it`, false);
}

/** Every version of `model` (none when the model is not registered yet). */
async function versions(server: Server, model: string): Promise<RawVersion[]> {
  const out: RawVersion[] = [];
  let token: string | undefined;
  do {
    const page = await api<{ model_versions?: RawVersion[]; next_page_token?: string }>(server, 'GET', 'model-versions/search', {
      filter: `name=${filterString(model)}`, max_results: 1000, ...(token ? { page_token: token } : {}),
    }, `list the versions of model '${model}'`);
    out.push(...(page.model_versions ?? []));
    token = page.next_page_token;
  } while (token);
  return out;
}

/** The newest version ready to read; undefined when the model has none (or is not registered). */
export async function latestVersion(server: Server, model: string): Promise<Version | undefined> {
  // A registry that registers asynchronously (PENDING_REGISTRATION, FAILED_REGISTRATION) has versions whose files are not all there.
  const all = (await versions(server, model)).filter((v) => v.status === undefined || v.status === 'READY');
  const newest = all.reduce<RawVersion | undefined>((a, v) => (!a || Number(v.version) > Number(a.version) ? v : a), undefined);
  return newest ? toVersion(newest) : undefined;
}

async function modelExists(server: Server, model: string): Promise<boolean> {
  try {
    await api(server, 'GET', 'registered-models/get', { name: model }, `find model '${model}'`);
    return true;
  } catch (error) {
    if (error instanceof ClientError && error.code === 'RESOURCE_DOES_NOT_EXIST') return false;
    throw error;
  }
}

/** The version `alias` names now, or null when the alias is not set (a push's alias call that failed, or one added to the manifest since). */
export async function aliasVersion(server: Server, model: string, alias: string): Promise<number | null> {
  try {
    const got = await api<{ model_version: RawVersion }>(server, 'GET', 'registered-models/alias', { name: model, alias }, `resolve alias '${alias}' of model '${model}'`);
    return Number(got.model_version.version);
  } catch (error) {
    // MLflow 3 answers a missing alias with INVALID_PARAMETER_VALUE "… alias X not found".
    if (error instanceof ClientError && (error.code === 'RESOURCE_DOES_NOT_EXIST' || (error.code === 'INVALID_PARAMETER_VALUE' && /not found/i.test(error.message)))) return null;
    throw error;
  }
}

/** The version a pull reads: `version`, else the one `alias` names, else the newest. A missing one is a clear error. */
export async function wantedVersion(server: Server, model: string, pick: { alias?: string; version?: number }): Promise<Version> {
  const at = server.base;
  if (!(await modelExists(server, model))) throw new ClientError(`registered model '${model}' not found at ${at}`, false);
  if (pick.version !== undefined) {
    try {
      const got = await api<{ model_version: RawVersion }>(server, 'GET', 'model-versions/get', { name: model, version: pick.version }, `get version ${pick.version} of model '${model}'`);
      return toVersion(got.model_version);
    } catch (error) {
      if (error instanceof ClientError && error.code === 'RESOURCE_DOES_NOT_EXIST') throw new ClientError(`version ${pick.version} of model '${model}' not found at ${at}`, false);
      throw error;
    }
  }
  if (pick.alias !== undefined) {
    try {
      const got = await api<{ model_version: RawVersion }>(server, 'GET', 'registered-models/alias', { name: model, alias: pick.alias }, `resolve alias '${pick.alias}' of model '${model}'`);
      return toVersion(got.model_version);
    } catch (error) {
      if (error instanceof ClientError && !error.transient) throw new ClientError(`alias '${pick.alias}' of model '${model}' not found at ${at}`, false);
      throw error;
    }
  }
  const latest = await latestVersion(server, model);
  if (!latest) throw new ClientError(`model '${model}' has no versions yet at ${at}`, false);
  return latest;
}

/** `mlflow-artifacts:/1/<run>/artifacts/model` → `1/<run>/artifacts/model`: a path the artifact proxy serves. */
export function proxyPath(uri: string): string {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(uri);
  if (!m) throw new ClientError(`the files are at ${uri}, which labsync reads and writes only through the server's artifact proxy (a server started with --serve-artifacts, and an experiment whose artifact location is mlflow-artifacts:, the default there)`, false);
  return (m[1] as string).replace(/\/+$/, '');
}

/** The folder holding the version's files (model/), as the server says to download it. */
export async function versionFolder(server: Server, model: string, v: Version): Promise<string> {
  const got = await api<{ artifact_uri: string }>(server, 'GET', 'model-versions/get-download-uri', { name: model, version: v.version }, `find the files of version ${v.version} of model '${model}'`);
  return proxyPath(got.artifact_uri);
}

export const fileUrl = (folder: string, path: string): string =>
  `/api/2.0/mlflow-artifacts/artifacts/${[...folder.split('/'), ...path.split('/')].map(encodeURIComponent).join('/')}`;

interface Listed { files?: { path: string; is_dir?: boolean; file_size?: number | string }[] }

/** Every file under `folder`, recursively (the proxy lists one level per call). */
export async function listFiles(server: Server, folder: string, under = ''): Promise<RemoteFile[]> {
  const at = under ? `${folder}/${under}` : folder;
  const res = await request(server, 'GET', `/api/2.0/mlflow-artifacts/artifacts?${new URLSearchParams({ path: at }).toString()}`, undefined, `list ${at}`);
  if (!res.ok) throw await failure(res, `list the artifacts in ${at}`);
  const listed = (await res.json()) as Listed;
  const out: RemoteFile[] = [];
  for (const f of listed.files ?? []) {
    // The proxy names entries by their last segment; older servers give the path from `folder`.
    const name = f.path.includes('/') ? f.path.slice(f.path.lastIndexOf('/') + 1) : f.path;
    const rel = under ? `${under}/${name}` : name;
    if (f.is_dir) out.push(...(await listFiles(server, folder, rel)));
    else out.push({ path: rel, size: Number(f.file_size ?? 0) });
  }
  return out;
}

/** The version's SHA256SUMS (beside model/), by path; undefined when the version has none (not made by labsync). */
export async function readSums(server: Server, folder: string): Promise<Map<string, string> | undefined> {
  const parent = folder.slice(0, folder.lastIndexOf('/'));
  const res = await request(server, 'GET', fileUrl(parent, SUMS_NAME), undefined, `read ${SUMS_NAME}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw await failure(res, `read ${SUMS_NAME} of ${parent}`);
  const { entries, bad } = parseSums(await res.text());
  if (bad.length) throw new ClientError(`${SUMS_NAME} of ${parent} has unreadable lines (${bad.slice(0, 3).join(', ')})`, false);
  return new Map(entries.map((e) => [e.name, e.hex.toLowerCase()]));
}

/**
 * The version's files with their listed sizes and the sha256 its SHA256SUMS gives each; `gone`: files
 * its SHA256SUMS names that the server no longer lists (artifacts deleted after registration).
 */
export async function versionFiles(server: Server, folder: string): Promise<{ files: RemoteFile[]; sums: boolean; gone: string[] }> {
  const [listed, sums] = await Promise.all([listFiles(server, folder), readSums(server, folder)]);
  const present = new Set(listed.map((f) => f.path));
  const gone = sums ? [...sums.keys()].filter((p) => !present.has(p)).sort() : [];
  return { files: listed.map((f) => ({ ...f, ...(sums?.get(f.path) ? { sha256: sums.get(f.path) as string } : {}) })), sums: Boolean(sums), gone };
}
