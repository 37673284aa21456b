// A child environment that cannot reach the user's config or anything off loopback (TESTBED.md hazards).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTools } from './tools.js';

const DROP = [
  'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_CA_BUNDLE', 'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3', 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'http_proxy', 'https_proxy', 'HTTP_PROXY',
  'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy', 'RCLONE_CONFIG_PASS', 'LABSYNC_CONFIG', 'GITHUB_ACTIONS', 'GITHUB_STEP_SUMMARY',
  'NO_COLOR', 'FORCE_COLOR', 'GIT_SSH', 'XDG_CONFIG_HOME',
];

/** `home` becomes HOME, with empty git and rclone config files inside it. */
export function isolatedEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  mkdirSync(join(home, '.config', 'rclone'), { recursive: true });
  writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = labsync test\n\temail = test@labsync.invalid\n');
  writeFileSync(join(home, '.config', 'rclone', 'rclone.conf'), '');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !DROP.includes(k)) env[k] = v;
  return {
    ...env,
    HOME: home,
    PATH: withTools(env.PATH),
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(home, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
    GIT_CONFIG_GLOBAL: join(home, '.gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    RCLONE_CONFIG: join(home, '.config', 'rclone', 'rclone.conf'),
    DVC_NO_ANALYTICS: '1',
    // dvc keeps a folder per repository in /var/tmp/dvc/repo otherwise (hundreds a test run, never removed).
    DVC_SITE_CACHE_DIR: join(home, '.cache', 'dvc-site'),
    // dvc's global and system config (a user's shared cache.dir) are the test's own, as the demo's are.
    DVC_GLOBAL_CONFIG_DIR: join(home, '.config', 'dvc'),
    DVC_SYSTEM_CONFIG_DIR: join(home, '.config', 'dvc-system'),
    // ssh reads ~/.ssh/config from the passwd home, not $HOME: a developer's ProxyJump would take git off loopback.
    GIT_SSH_COMMAND: 'ssh -F /dev/null',
    ...extra,
  };
}
