// The one choke point for secrets (SPEC §4): plan, logs, state, --json and error text pass through here.

const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|PASSWD|(^|_)PASS$|_KEY$|CREDENTIAL)/i;
/** Names that look secret but hold identifiers, not secrets. */
const NOT_SECRET = new Set(['AWS_ACCESS_KEY_ID', 'TOKENIZERS_PARALLELISM']);
/** Values no secret has, though a secret-looking name may hold them (a flag): masking them would mask the words. */
const NOT_A_SECRET_VALUE = /^(true|false|yes|no|on|off|none|null)$/i;
const MIN_SECRET_LENGTH = 4;
export const MASK = '***';

export function isSecretName(name: string): boolean {
  if (NOT_SECRET.has(name)) return false;
  return name === 'AWS_SECRET_ACCESS_KEY' || name === 'AWS_SESSION_TOKEN' || SECRET_NAME.test(name);
}

// `scheme://user:password@host` — keep the user, hide the password (also with no user: `http://:pw@host`,
// which the mlflow client takes with MLFLOW_TRACKING_USERNAME).
// The password runs to the authority's last `@` (`http://u:p@ss@host`: a URL parser reads `p@ss`).
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s/]+)(@)/gi;

// `https://TOKEN@host`: a token given as the user name (GitHub's and GitLab's documented form). A user
// name that is a known token's prefix or 20+ characters is hidden; `https://alice@host` stays readable.
const URL_TOKEN_USER = /(https?:\/\/)((?:ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|hf_)[^\s:/@?#]+|[^\s:/@?#]{20,})(@)/gi;

export type Redactor = (text: string) => string;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Builds a redactor that hides the values of secret-named variables in `envs` and URL passwords. */
export function makeRedactor(...envs: ReadonlyArray<Readonly<Record<string, string | undefined>>>): Redactor {
  const values = new Set<string>();
  for (const env of envs) {
    for (const [name, value] of Object.entries(env)) {
      if (!value || value.length < MIN_SECRET_LENGTH || !isSecretName(name) || NOT_A_SECRET_VALUE.test(value)) continue;
      values.add(value);
      values.add(encodeURIComponent(value));
    }
  }
  // Longest first, so a secret that contains another is hidden whole.
  const sorted = [...values].sort((a, b) => b.length - a.length);
  const pattern = sorted.length ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : undefined;
  return (text) => {
    // Most lines (rsync prints two per file) hold no URL: skip the regex when it cannot match.
    let out = text.includes('://') ? text.replace(URL_PASSWORD, `$1${MASK}$3`).replace(URL_TOKEN_USER, `$1${MASK}$3`) : text;
    if (pattern) out = out.replace(pattern, MASK);
    return out;
  };
}

/** Redacts every string inside a JSON-like value (for state files, logs and --json). */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, redact);
    return out as T;
  }
  return value;
}
