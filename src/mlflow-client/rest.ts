// The MLflow tracking server's REST API from node's fetch: one process start of node instead of a
// python interpreter importing mlflow per call (README: "MLflow pairs" has the measurement).
// Failures are values the adapter classifies by exit code: TRANSIENT (retry) or FATAL.
import { Readable, Transform } from 'node:stream';

export const EXIT_FATAL = 1;
export const EXIT_TRANSIENT = 75;

export class ClientError extends Error {
  constructor(message: string, readonly transient: boolean, readonly code?: string) {
    super(message);
  }
}

export interface Server {
  /** The tracking URI without credentials (fetch refuses URLs that carry them). */
  readonly base: string;
  readonly headers: Readonly<Record<string, string>>;
  /** No answer (headers) within this long is a transient failure; a body in flight is the stall watchdog's. */
  readonly timeoutMs: number;
}

/** Credentials as the mlflow client takes them: user:password in the URL, MLFLOW_TRACKING_USERNAME/PASSWORD, or MLFLOW_TRACKING_TOKEN. */
export function serverOf(uri: string, env: NodeJS.ProcessEnv): Server {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ClientError(`the tracking URI is not a URL`, false);
  }
  const user = decodeURIComponent(url.username) || env.MLFLOW_TRACKING_USERNAME;
  const password = decodeURIComponent(url.password) || env.MLFLOW_TRACKING_PASSWORD;
  url.username = '';
  url.password = '';
  const headers: Record<string, string> = {};
  if (env.MLFLOW_TRACKING_TOKEN) headers.authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  else if (user && password) headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const timeoutMs = Number(env.LABSYNC_MLFLOW_TIMEOUT_MS) || 30_000;
  return { base: url.toString().replace(/\/+$/, ''), headers, timeoutMs };
}

/** Connection refused, reset, DNS, a timeout: worth another try. */
function networkError(error: unknown, what: string): ClientError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError' ? 'no answer in time' : (cause?.code ?? cause?.message ?? (error as Error).message);
  return new ClientError(`cannot reach the MLflow server (${why}) — ${what}`, true, cause?.code);
}

/**
 * One HTTP call, bounded: no answer within the server's timeout (restarted by each chunk of an upload)
 * fails it, transient. The answer's body is read within the same bound, except `stream` (a download,
 * which idleGuard watches): a server that sent its headers and then stopped hung the call (a review
 * measured a listing waiting out the pair's whole 2 h timeout).
 */
export async function request(server: Server, method: string, path: string, body?: BodyInit | Readable, what = `${method} ${path}`, o: { stream?: boolean } = {}): Promise<Response> {
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(new DOMException('timeout', 'TimeoutError')), server.timeoutMs);
  // An upload is answered only after its last byte: the clock restarts with every chunk sent, so
  // only a silent link times out, never a large file.
  if (body instanceof Readable) {
    body.on('data', () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(new DOMException('timeout', 'TimeoutError')), server.timeoutMs);
    });
  }
  try {
    const init: RequestInit & { duplex?: 'half' } = { method, headers: { ...server.headers }, signal: abort.signal };
    if (body instanceof Readable) {
      init.body = Readable.toWeb(body) as ReadableStream;
      init.duplex = 'half';
    } else if (body !== undefined) {
      init.body = body;
    }
    if (typeof body === 'string') (init.headers as Record<string, string>)['content-type'] = 'application/json';
    const res = await fetch(`${server.base}${path}`, init);
    if (o.stream) return res;
    const whole = await res.arrayBuffer();
    const empty = [101, 204, 205, 304].includes(res.status);
    return new Response(empty ? null : whole, { status: res.status, statusText: res.statusText, headers: res.headers });
  } catch (error) {
    // A body that failed on this side (a local file that cannot be read) is that failure, not the network's.
    const cause = (error as { cause?: unknown }).cause;
    if (error instanceof ClientError) throw error;
    if (cause instanceof ClientError) throw cause;
    throw networkError(error, what);
  } finally {
    clearTimeout(timer);
  }
}

/** Passes a download through, failing it (transient) when no byte arrives for `ms`. */
export function idleGuard(ms: number, what: string): Transform {
  let timer: NodeJS.Timeout | undefined;
  const guard: Transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      arm();
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
  });
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => guard.destroy(new ClientError(`no data from the MLflow server for ${Math.round(ms / 1000)}s — ${what}`, true)), ms);
  };
  arm();
  guard.on('close', () => clearTimeout(timer));
  return guard;
}

interface ApiError { error_code?: string; message?: string }

/** An error answer as the user can act on it: MLflow's own code and message. */
export async function failure(res: Response, what: string): Promise<ClientError> {
  const text = await res.text().catch(() => '');
  let parsed: ApiError = {};
  try {
    parsed = JSON.parse(text) as ApiError;
  } catch {
    // Not MLflow answering (a proxy's HTML page): the status says enough.
  }
  const transient = res.status === 429 || res.status >= 500;
  const said = parsed.error_code ? `${parsed.error_code}: ${parsed.message ?? ''}` : `HTTP ${res.status}${text && text.length < 200 ? ` ${text.trim()}` : ''}`;
  return new ClientError(`${what}: ${said}`, transient, parsed.error_code);
}

/** One call of `/api/2.0/mlflow/<route>`: GET with a query, POST with a JSON body. */
export async function api<T>(server: Server, method: 'GET' | 'POST' | 'DELETE', route: string, args: Record<string, unknown>, what: string): Promise<T> {
  const query = method === 'GET' ? `?${new URLSearchParams(Object.entries(args).map(([k, v]) => [k, String(v)])).toString()}` : '';
  const res = await request(server, method, `/api/2.0/mlflow/${route}${query}`, method === 'GET' ? undefined : JSON.stringify(args), what);
  if (!res.ok) throw await failure(res, what);
  return (await res.json()) as T;
}
