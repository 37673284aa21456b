// labsync's MLflow client: `node dist/mlflow-client.js OP '<json args>'`, the tracking URI in
// MLFLOW_TRACKING_URI. Run by the engine like any tool (retries, timeouts, stall watchdog, redaction),
// it answers one JSON document on stdout; exit 75 is transient (retry), 1 fatal with the reason on stderr.
import { aliasVersion, latestVersion, versionFiles, versionFolder, wantedVersion, type RemoteFile, type Version } from './registry.js';
import { api, ClientError, EXIT_FATAL, EXIT_TRANSIENT, serverOf, type Server } from './rest.js';
import { hashRemote, pull, push, type PullArgs, type PushArgs } from './transfer.js';

export interface ListArgs { model: string; alias?: string; version?: number; latest?: boolean }

/** What a side of the plan needs: which version, and its files with sizes and listed sha256. */
async function list(server: Server, a: ListArgs): Promise<{ model: string; alias: string | null; version: number | null; aliasAt?: number | null; runId?: string; sums: boolean; files: RemoteFile[] }> {
  // A push compares with the newest version, and a model with none yet is an empty remote.
  const v: Version | undefined = a.latest ? await latestVersion(server, a.model) : await wantedVersion(server, a.model, a);
  const named = { model: a.model, alias: a.alias ?? null };
  if (!v) return { ...named, version: null, sums: false, files: [] };
  // A push's alias: where it points now, so a folder equal to the newest version still gets it there.
  if (a.latest && a.alias) Object.assign(named, { aliasAt: await aliasVersion(server, a.model, a.alias) });
  const { files, sums, gone } = await versionFiles(server, await versionFolder(server, a.model, v));
  // The version read (a pull's, a check's) lacks files it was registered with: taken as it lists, a
  // mirror pull deleted the only local copies (a review). A push compares with it only to send anew.
  if (gone.length && !a.latest) {
    throw new ClientError(`version ${v.version} of model '${a.model}' was registered with ${gone.length} file${gone.length === 1 ? '' : 's'} its artifacts no longer hold (${gone.slice(0, 3).join(', ')}${gone.length > 3 ? ', …' : ''}; deleted on the server since): nothing was changed here`, false);
  }
  return { ...named, version: v.version, runId: v.runId, sums, files };
}

async function full(server: Server, a: ListArgs): Promise<Record<string, unknown>> {
  const v = a.latest ? await latestVersion(server, a.model) : await wantedVersion(server, a.model, a);
  if (!v) return { version: null, files: [] };
  const folder = await versionFolder(server, a.model, v);
  const { files } = await versionFiles(server, folder);
  return { version: v.version, files: await hashRemote(server, a.model, v, folder, files.map((f) => f.path)) };
}

export interface AliasArgs { model: string; alias: string; version: number }

/**
 * A push whose folder equals the newest version but whose alias is not set: the alias is pointed at
 * that version (no second version of the same files). The version is the one the plan was listed
 * from; one that has gone since is a clear error, not a new registration.
 */
async function alias(server: Server, a: AliasArgs): Promise<Record<string, unknown>> {
  await api(server, 'POST', 'registered-models/alias', { name: a.model, alias: a.alias, version: String(a.version) }, `point alias '${a.alias}' at version ${a.version}`);
  return { model: a.model, version: a.version, alias: a.alias, files: 0, bytes: 0, aliased: true };
}

async function main(op: string | undefined, raw: string | undefined): Promise<unknown> {
  const uri = process.env.MLFLOW_TRACKING_URI;
  if (!uri) throw new ClientError('MLFLOW_TRACKING_URI is not set', false);
  const server = serverOf(uri, process.env);
  const args = JSON.parse(raw ?? '{}') as Record<string, unknown>;
  switch (op) {
    case 'list':
      return list(server, args as unknown as ListArgs);
    case 'full':
      return full(server, args as unknown as ListArgs);
    case 'push':
      return push(server, args as unknown as PushArgs);
    case 'alias':
      return alias(server, args as unknown as AliasArgs);
    case 'pull':
      // The planned paths come on standard input, NUL-separated: a list of any length, any names.
      return pull(server, { ...(args as unknown as Omit<PullArgs, 'paths'>), paths: await stdinPaths() });
    default:
      throw new ClientError(`unknown operation '${op ?? ''}' (list, full, push, pull, alias)`, false);
  }
}

async function stdinPaths(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split('\0').filter(Boolean);
}

main(process.argv[2], process.argv[3]).then(
  (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
  (error: unknown) => {
    const transient = error instanceof ClientError ? error.transient : false;
    process.stderr.write(`mlflow: ${(error as Error).message}\n`);
    process.exitCode = transient ? EXIT_TRANSIENT : EXIT_FATAL;
  },
);
