// One suite, every mover (STYLE.md habit 9): what a user relies on must hold for each tool alike.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { which } from '../src/exec/which.js';
import { MLFLOW_QUIET, newestContents, startMlflow, stopMlflow, type MlflowServer } from './harness/mlflow.js';
import { withTools } from './harness/tools.js';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import type { SshHost } from './harness/sshd.js';
import { tempDirs } from '../src/temp-dirs.fixture.js';

const tempDir = tempDirs();

// null only off CI on a machine without moto_server (global-setup fails a CI run instead): these cases then skip.
const s3 = inject('s3');
// The second S3 server, with checksum ETags that are not MD5s; null (with the reason) when it could not be built.
const vgw = inject('versitygw');
const vgwMissing = inject('versitygwMissing');
const ssh = inject('sshHost');

interface Backend {
  readonly name: string;
  /** remotes: block and the pair's remote/tool lines, for a lab. */
  setup(lab: Lab): Promise<{ remotes: string; remote: string; tool: string }>;
  /** Everything on the remote side, as relative path → content. */
  contents(lab: Lab): Promise<Record<string, string>>;
  readonly env: Record<string, string>;
  /** A secret-named variable to plant; a real S3 server refuses a made-up AWS_SESSION_TOKEN, moto takes it. */
  readonly plantIn?: string;
  /** The remote keeps replaced files in backups (a model registry keeps every version instead). */
  readonly backup?: false;
}

const folder = (tool: string): Backend => ({
  name: `${tool} → local folder`,
  setup: async (lab) => ({ remotes: `  nas: { type: local, path: "${lab.outside('nas dir')}" }\n`, remote: 'nas:-odd target', tool }),
  contents: async (lab) => lab.tree(lab.outside('nas dir', '-odd target')),
  env: {},
});

/** sshd runs on this machine, so the host's folder can be read back directly. */
const sshFolder = (host: SshHost): Backend => ({
  name: 'rsync → ssh host',
  setup: async (lab) => ({
    remotes: `  gpu: { type: ssh, host: 127.0.0.1, user: ${host.user}, port: ${host.port}, identity: "${host.identity}", known_hosts: "${host.knownHosts}", ssh_config: "${host.sshConfig}", path: "${lab.outside('gpu home')}" }\n`,
    remote: 'gpu:-odd target', tool: 'rsync',
  }),
  contents: async (lab) => lab.tree(lab.outside('gpu home', '-odd target')),
  env: {},
});

const bucket = (tool: string, server: S3Server, store: string): Backend => {
  const buckets = new Map<Lab, string>();
  return {
    name: `${tool} → S3 (${store})`,
    setup: async (lab) => {
      const b = await makeBucket(server, lab.env);
      buckets.set(lab, b);
      return { remotes: `  store: { type: s3, bucket: ${b}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}" }\n`, remote: 'store:-odd target', tool };
    },
    contents: async (lab) => {
      const dir = mkdtempSync(lab.outside('s3-copy-'));
      await awsCli(server, lab.env, ['s3', 'sync', `s3://${buckets.get(lab)}/lab/-odd target/`, dir]);
      return lab.tree(dir);
    },
    env: S3_KEYS,
    ...(store === 'moto' ? {} : { plantIn: 'LAB_API_TOKEN' }),
  };
};

// A real mlflow server, started by this file at its first MLflow case and stopped after the last.
let mlflowServer: Promise<MlflowServer> | undefined;
const mlflowInstalled = Boolean(await which('mlflow', withTools(process.env.PATH)));
afterAll(async () => {
  if (mlflowServer) await stopMlflow(await mlflowServer);
});
const registry = (): Backend => {
  const models = new Map<Lab, string>();
  return {
    name: 'mlflow → model registry',
    setup: async (lab) => {
      const server = await (mlflowServer ??= startMlflow(tempDir('labsync-conformance-mlflow-')));
      const model = `conformance-${process.pid}-${models.size + 1}`;
      models.set(lab, model);
      return { remotes: `  reg: { type: mlflow, tracking_uri: "${server.uri}", model: ${model}, experiment: conformance }\n`, remote: 'reg', tool: 'mlflow' };
    },
    contents: async (lab) => newestContents(await (mlflowServer as Promise<MlflowServer>), models.get(lab) as string),
    env: MLFLOW_QUIET,
    backup: false,
  };
};

const backends: Backend[] = [
  folder('rsync'), ...(ssh ? [sshFolder(ssh)] : []), folder('rclone'),
  ...(s3 ? [bucket('rclone', s3, 'moto'), bucket('aws', s3, 'moto')] : []),
  ...(vgw ? [bucket('rclone', vgw, 'versitygw'), bucket('aws', vgw, 'versitygw')] : []),
  ...(mlflowInstalled ? [registry()] : []),
];
const NAMES = ['plain.csv', 'with space.csv', 'ünïcödé ✓.csv', '-leading-dash.csv', 'sub/deeper/file.bin'];
type Doc = { pairs: { status: string; error: string | null; changes?: { transfer: string[]; delete: string[] }; verify: { status: string } | null }[] };

describe.each(backends)('conformance: $name', (backend) => {
  async function lab(options = ''): Promise<Lab> {
    const l = new Lab();
    const { remotes, remote, tool } = await backend.setup(l);
    l.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n${remotes}data:\n  - name: raw\n    tool: ${tool}\n    local: "-odd local"\n    remote: "${remote}"\n${options}`);
    for (const n of NAMES) l.write(l.path('-odd local', n), `content of ${n}\n`);
    return l;
  }
  const cli = (l: Lab, args: string[]) => l.cli(args, { env: backend.env });

  it('pushes every file with its name intact, verified, and pulls it back', async () => {
    const l = await lab();
    const r = await cli(l, ['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(await backend.contents(l)).toEqual(l.tree(l.path('-odd local')));
    unlinkSync(l.path('-odd local', 'plain.csv'));
    writeFileSync(l.path('-odd local', 'with space.csv'), 'local edit\n');
    const pulled = await cli(l, ['data', 'pull']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
    expect(l.tree(l.path('-odd local'))['plain.csv']).toBe('content of plain.csv\n');
  });

  it('--dry-run reports what would change and changes nothing', async () => {
    const l = await lab('    delete: true\n');
    await cli(l, ['data', 'push']);
    const before = await backend.contents(l);
    writeFileSync(l.path('-odd local', 'new.csv'), 'new\n');
    unlinkSync(l.path('-odd local', 'plain.csv'));
    const r = await cli(l, ['data', 'push', '--dry-run', '--json']);
    expect(r.exitCode).toBe(0);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'planned', changes: { transfer: expect.arrayContaining(['new.csv']), delete: ['plain.csv'] } });
    expect(await backend.contents(l)).toEqual(before);
  });

  it('nothing to do means nothing run: a second push runs only the preview, and the destination is untouched', async () => {
    const l = await lab('    delete: true\n');
    expect((await cli(l, ['data', 'push'])).exitCode).toBe(0);
    const before = await backend.contents(l);
    const dry = json<Doc & { pairs: { commands: string[] }[] }>(await cli(l, ['data', 'push', '--dry-run', '--json']));
    const r = await cli(l, ['data', 'push', '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const pair = json<Doc & { pairs: { commands: string[]; files: number }[] }>(r).pairs[0];
    expect(pair).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync' } });
    // The commands a run shows are the preview's and the transfer's: here, the preview's alone.
    expect(pair?.commands).toEqual(dry.pairs[0]?.commands);
    expect(await backend.contents(l)).toEqual(before);
  });

  it('refuses a mirror over max_delete and from an empty source; nothing is deleted', async () => {
    const l = await lab('    delete: true\n    max_delete: 2\n');
    await cli(l, ['data', 'push']);
    const before = await backend.contents(l);
    for (const n of NAMES.slice(0, 3)) unlinkSync(l.path('-odd local', n));
    const over = await cli(l, ['data', 'push', '--json']);
    expect(over.exitCode).toBe(3);
    expect(json<Doc>(over).pairs[0]?.error).toContain('would delete 3 of 5 files at the destination (60%), over max_delete 2');
    for (const n of NAMES.slice(3)) unlinkSync(l.path('-odd local', n));
    expect((await cli(l, ['data', 'push'])).exitCode).toBe(3);
    expect(await backend.contents(l)).toEqual(before);
  });

  it('a missing local folder: a push is refused naming it (exit 3), a pull makes it and pulls', async () => {
    const l = await lab('    delete: true\n');
    await cli(l, ['data', 'push']);
    const before = await backend.contents(l);
    rmSync(l.path('-odd local'), { recursive: true });
    for (const args of [['data', 'push', '--json'], ['data', 'push', '--dry-run', '--json']]) {
      const r = await cli(l, args);
      expect(r.exitCode, r.stdout + r.stderr).toBe(3);
      expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'refused', error: `the source ${l.path('-odd local')} does not exist; refusing to mirror it` });
    }
    expect(await backend.contents(l)).toEqual(before);
    for (const args of [['data', 'status', '--json'], ['check', '--json']]) {
      const r = await cli(l, args);
      expect(r.exitCode, r.stdout + r.stderr).toBe(3);
      expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'refused', error: `the source ${l.path('-odd local')} does not exist; refusing to compare it` });
    }
    // A dry run changes nothing, not even the folder.
    const dry = await cli(l, ['data', 'pull', '--dry-run', '--json']);
    expect(dry.exitCode, dry.stdout + dry.stderr).toBe(0);
    expect(json<Doc>(dry).pairs[0]?.changes?.transfer).toHaveLength(NAMES.length);
    expect(existsSync(l.path('-odd local'))).toBe(false);
    const pulled = await cli(l, ['data', 'pull', '--json']);
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0);
    expect(json<Doc>(pulled).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(l.tree(l.path('-odd local'))).toEqual(before);
  });

  // A registry has no backups to keep: every earlier version stays (the rules refuse backup: true there).
  it.runIf(backend.backup !== false)('backup keeps the replaced and deleted files', async () => {
    const l = await lab('    delete: true\n    backup: true\n');
    await cli(l, ['data', 'push']);
    writeFileSync(l.path('-odd local', 'plain.csv'), 'replaced\n');
    unlinkSync(l.path('-odd local', 'with space.csv'));
    const r = await cli(l, ['data', 'push']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const after = await backend.contents(l);
    const kept = Object.entries(after).filter(([k]) => k.startsWith('.labsync-backup/')).map(([k, v]) => [k.replace(/^\.labsync-backup\/[^/]+\//, ''), v]);
    expect(Object.fromEntries(kept)).toMatchObject({ 'plain.csv': 'content of plain.csv\n', 'with space.csv': 'content of with space.csv\n' });
    expect(after['plain.csv']).toBe('replaced\n');
    expect(after['with space.csv']).toBeUndefined();
  });

  it('keeps a planted secret out of output, plan, logs and state', async () => {
    const secret = 'Pl4nted-S3cret-Value-42';
    const l = await lab();
    const name = backend.plantIn ?? 'AWS_SESSION_TOKEN';
    const env = { ...backend.env, [name]: secret, RCLONE_CONFIG_X_PASS: secret };
    l.manifest(readFileSync(l.path('labsync.yaml'), 'utf8').replace('retries: 0', `retries: 0\n  exclude: ["\${${name}}"]`));
    const outputs = [await l.cli(['data', 'push', '--json'], { env }), await l.cli(['plan'], { env }), await l.cli(['data', 'status', '-v'], { env })];
    expect(outputs[0]?.exitCode, outputs[0]?.stdout).toBe(0);
    for (const o of outputs) expect(o.stdout + o.stderr).not.toContain(secret);
    const files = [l.path('.labsync/state.json'), ...readdirSync(l.path('.labsync/logs')).map((f) => l.path('.labsync/logs', f))];
    for (const f of files) expect(readFileSync(f, 'utf8')).not.toContain(secret);
  });
});

// Registered only when versitygw is missing, so the report says why these cases did not run.
if (!vgw) {
  describe('conformance: S3 (versitygw)', () => {
    it.skip(`cannot run: ${vgwMissing ?? 'versitygw is unavailable'}`, () => undefined);
  });
}
