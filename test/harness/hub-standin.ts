// A small Hub-API write stand-in: the routes huggingface_hub 2.4.0's `hf upload` needs (TESTBED-models.md
// 1–6) implemented by writing real git commits with LFS objects into the repos olah serves; every
// other request goes to olah. It also answers a missing repo or revision as the Hub does (404 with
// X-Error-Code), where olah answers 401. What it proves: labsync ⇄ hf ⇄ the Hub's HTTP protocol,
// not the Hub's storage.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { commit, createRepo, existing, git, lfsPath, repoDir, resolveRev, sha256, type Operation } from './hub-git.js';

export interface StandIn {
  readonly server: Server;
  readonly port: number;
  /** Commits made through the API so far (every repo). */
  readonly commits: () => number;
  /**
   * From the (n+1)th read on (a revision lookup or a file download), answer 503: a Hub that fails
   * between labsync's listing and hf's download.
   */
  failReadsAfter(n: number | undefined): void;
  /** Take uploads (preupload) and never answer: a Hub gone silent mid-push. */
  silentUploads(on: boolean): void;
  /** Cut the connection of the next `n` commit requests without an answer (nothing committed): a Hub that drops a connection. */
  dropCommits(n: number): void;
  /** Right before the next commit request is handled, run `fn` (a colleague's commit landing between labsync's listing and its own). */
  beforeNextCommit(fn: (() => void) | undefined): void;
}

const TYPES: Record<string, string> = { models: 'model', datasets: 'dataset', spaces: 'space' };
/** Files at least this big, or with a NUL in their first 512 bytes, go to LFS, as on the Hub. */
const LFS_MIN = 10 * 1024 * 1024;

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

const notFound = (res: ServerResponse, code: 'RepoNotFound' | 'RevisionNotFound' | 'EntryNotFound', message: string): void =>
  send(res, 404, { error: message }, { 'x-error-code': code, 'x-error-message': message });

export function startStandIn(mirrors: string, port: number, olahPort: number): Promise<StandIn> {
  let commits = 0;
  let readsLeft: number | undefined;
  let silent = false;
  let drops = 0;
  let before: (() => void) | undefined;
  const base = `http://127.0.0.1:${port}`;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', base);
    const p = url.pathname;
    let m: RegExpExecArray | null;
    if (silent && /\/preupload\//.test(p)) return;
    if (drops > 0 && req.method === 'POST' && /\/commit\//.test(p)) {
      drops--;
      return void req.socket.destroy();
    }
    if (req.method === 'POST' && p === '/api/repos/create') {
      const b = JSON.parse((await body(req)).toString()) as { name: string; organization?: string; type?: string };
      const repo = b.organization ? `${b.organization}/${b.name}` : b.name;
      const dir = repoDir(mirrors, b.type ?? 'model', repo);
      const answer = { url: `${base}/${repo}` };
      if (existsSync(dir)) return send(res, 409, { ...answer, error: 'You already created this model repo' });
      createRepo(dir);
      return send(res, 200, answer);
    }
    if (req.method === 'POST' && p === '/api/validate-yaml') return send(res, 200, { errors: [], warnings: [] });

    // /api/{type}s/ORG/NAME/{preupload|commit|branch|tag}/{rev}
    if (req.method === 'POST' && (m = /^\/api\/(models|datasets|spaces)\/([^/]+\/[^/]+)\/(preupload|commit|branch|tag)\/(.+)$/.exec(p))) {
      const [, t, repo, op, rawRev] = m as unknown as [string, string, string, string, string];
      const rev = decodeURIComponent(rawRev);
      const dir = repoDir(mirrors, TYPES[t] as string, repo);
      if (!existsSync(dir)) return notFound(res, 'RepoNotFound', `Repository Not Found for url: ${p}`);
      const raw = await body(req);
      if (op === 'commit' && before) {
        const fn = before;
        before = undefined;
        fn();
      }
      if (op === 'branch') {
        const from = resolveRev(dir, (JSON.parse(raw.toString() || '{}') as { startingPoint?: string }).startingPoint ?? 'main');
        if (!from) return notFound(res, 'RevisionNotFound', 'Invalid rev id');
        git(dir, ['update-ref', `refs/heads/${rev}`, from]);
        return send(res, 200, {});
      }
      const at = resolveRev(dir, rev);
      if (!at) return notFound(res, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      if (op === 'tag') {
        const b = JSON.parse(raw.toString()) as { tag: string; message?: string };
        git(dir, ['tag', '-a', '-m', b.message || b.tag, b.tag, at]);
        return send(res, 200, {});
      }
      if (op === 'preupload') {
        const files = (JSON.parse(raw.toString()) as { files: { path: string; sample: string; size: number }[] }).files;
        return send(res, 200, {
          files: files.map((f) => {
            const lfs = f.size >= LFS_MIN || Buffer.from(f.sample, 'base64').includes(0);
            const there = existing(dir, at, f.path);
            const oid = lfs ? there?.sha256 : there && !there.sha256 ? there.blob : undefined;
            return { path: f.path, uploadMode: lfs ? 'lfs' : 'regular', shouldIgnore: false, ...(oid ? { oid } : {}) };
          }),
        });
      }
      // commit: NDJSON header, then file / lfsFile / deletedFile / deletedFolder lines.
      const lines = raw.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
      const header = (lines.find((l) => l.key === 'header')?.value ?? {}) as { summary?: string; description?: string; parentCommit?: string };
      // As the Hub: a commit that names a parent the branch has moved past is refused.
      if (header.parentCommit && header.parentCommit !== at) return send(res, 412, { error: 'A commit has happened since. Please refresh and try again.' });
      const ops: Operation[] = [];
      for (const { key, value } of lines) {
        const path = String(value.path ?? '');
        if (key === 'file') ops.push({ kind: 'file', path, content: Buffer.from(String(value.content), value.encoding === 'base64' ? 'base64' : 'utf8') });
        else if (key === 'lfsFile') {
          const oid = String(value.oid);
          if (!existsSync(lfsPath(dir, oid))) return send(res, 400, { error: `LFS object ${oid} was never uploaded` });
          ops.push({ kind: 'lfsFile', path, oid, size: Number(value.size) });
        } else if (key === 'deletedFile') {
          // As the Hub: deleting a file the parent commit does not hold fails the whole commit.
          if (!existing(dir, at, path)) return notFound(res, 'EntryNotFound', "A file with this name doesn't exist");
          ops.push({ kind: 'deletedFile', path });
        }
        else if (key === 'deletedFolder') ops.push({ kind: 'deletedFolder', path });
      }
      const branch = /^[0-9a-f]{40}$/.test(rev) ? 'main' : rev;
      const id = commit(dir, branch, at, header.summary ?? 'upload', header.description ?? '', ops);
      commits++;
      return send(res, 200, { commitUrl: `${base}/${repo}/commit/${id}`, commitOid: id, pullRequestUrl: null });
    }

    // git-LFS batch API: upload, basic transfer, sha256; then PUT of the raw bytes.
    if (req.method === 'POST' && (m = /^\/(?:(datasets|spaces)\/)?([^/]+\/[^/]+?)\.git\/info\/lfs\/objects\/batch$/.exec(p))) {
      const type = m[1] ? (TYPES[m[1]] as string) : 'model';
      const repo = m[2] as string;
      const dir = repoDir(mirrors, type, repo);
      const b = JSON.parse((await body(req)).toString()) as { objects: { oid: string; size: number }[] };
      return send(res, 200, {
        transfer: 'basic',
        objects: b.objects.map((o) => ({
          oid: o.oid, size: o.size, authenticated: true,
          ...(existsSync(lfsPath(dir, o.oid)) ? {} : { actions: { upload: { href: `${base}/lfs-upload/${type}/${repo}/${o.oid}`, expires_in: 3600 } } }),
        })),
      }, { 'content-type': 'application/vnd.git-lfs+json' });
    }
    if (req.method === 'PUT' && (m = /^\/lfs-upload\/(\w+)\/([^/]+\/[^/]+)\/([0-9a-f]{64})$/.exec(p))) {
      const [, type, repo, oid] = m as unknown as [string, string, string, string];
      const bytes = await body(req);
      if (sha256(bytes) !== oid) return send(res, 400, { error: 'sha256 mismatch' });
      const to = lfsPath(repoDir(mirrors, type, repo), oid);
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, bytes);
      return send(res, 200, {});
    }

    if (readsLeft !== undefined && /\/(revision|resolve)\//.test(p) && readsLeft-- <= 0) return send(res, 503, { error: 'Service Unavailable' });
    // Reads go to olah, but a missing repo or revision is answered as the Hub answers it.
    if ((m = /^\/api\/(models|datasets|spaces)\/([^/]+\/[^/]+)(?:\/(?:revision|tree|paths-info)\/([^/]+).*)?$/.exec(p))
      ?? (m = /^\/(?:(datasets|spaces)\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\//.exec(p))) {
      const dir = repoDir(mirrors, m[1] ? (TYPES[m[1]] as string) : 'model', m[2] as string);
      if (!existsSync(dir)) return notFound(res, 'RepoNotFound', `Repository Not Found for url: ${p}`);
      if (m[3] && !resolveRev(dir, decodeURIComponent(m[3]))) return notFound(res, 'RevisionNotFound', `Invalid rev id: ${decodeURIComponent(m[3] as string)}`);
    }
    const upstream = request({ host: '127.0.0.1', port: olahPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${port}` } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (e) => send(res, 502, { error: `olah: ${e.message}` }));
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { error: String(e) });
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, port, commits: () => commits, failReadsAfter: (n) => void (readsLeft = n), silentUploads: (on) => void (silent = on), dropCommits: (n) => void (drops = n), beforeNextCommit: (fn) => void (before = fn) }));
  });
}

/** Files in `commit`, for assertions: path → blob id. */
export function treeOf(dir: string, rev: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of git(dir, ['ls-tree', '-r', rev]).split('\n').filter(Boolean)) {
    const [meta, path] = line.split('\t') as [string, string];
    out.set(path, meta.split(' ')[2] as string);
  }
  return out;
}

export const readLfs = (dir: string, oid: string): Buffer => readFileSync(lfsPath(dir, oid));
