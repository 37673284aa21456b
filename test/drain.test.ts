// labsync drain (issue 16): newest files first within a budget, `partial` with what is left, no half
// file and no marker that lies; and watch draining on SIGTERM or a termination notice. Real rsync, to a
// local folder and over the loopback sshd; the transfers are slowed with the pair's bwlimit so a budget
// ends mid-drain. Nothing here is timed: what arrived is compared with the order it should arrive in.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { processesLeft } from './harness/processes.js';
// processesLeft: a kept ssh connection's master (ssh: <socket> [mux]) outlives a run by design (engine/ssh-keep.ts).
import { sshRemote } from './harness/sshd.js';
import { until } from './harness/wait.js';

const ssh = inject('sshHost');
const s3 = inject('s3');
const FILES = 8;
/** f7 newest … f0 oldest: name order (rsync's own order within one call) is the opposite of newest first. */
const NEWEST_FIRST = Array.from({ length: FILES }, (_, i) => `f${FILES - 1 - i}.bin`);

type Doc = { pairs: { name: string; status: string; error: string | null; left?: string[]; files: number }[] };

/** A `ckpt` pair (tagged drain, marker COMPLETE) of 8 files of 30 kB; at 10 KiB/s each takes about 3 s. */
function drainLab(remote: (lab: Lab) => string, extra = '    bwlimit: 10K\n', size = 30_000): { lab: Lab; dest: string; content: Map<string, Buffer> } {
  const lab = new Lab();
  const dest = lab.outside('far', 'ckpt');
  lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  far: ${remote(lab)}\ndata:\n  - name: ckpt\n    local: ckpt\n    remote: far:ckpt\n    tags: [drain]\n    drain_marker: COMPLETE\n${extra}`);
  const content = new Map<string, Buffer>();
  for (let i = 0; i < FILES; i++) {
    const name = `f${i}.bin`;
    const bytes = randomBytes(size);
    content.set(name, bytes);
    lab.write(lab.path('ckpt', name), bytes);
    const t = new Date(Date.UTC(2026, 0, 1, 0, i));
    utimesSync(lab.path('ckpt', name), t, t);
  }
  return { lab, dest, content };
}

// The budget leaves room for the listings and the first file (over ssh each rsync call logs in anew,
// which took seconds under the full suite's load) and ends well before the last of 8 × 3 s.
const remotes: [string, ((lab: Lab) => string) | undefined, string][] = [
  ['a local remote', (lab) => `{ type: local, path: "${lab.outside('far')}" }`, '15s'],
  ['an ssh remote', ssh ? (lab) => sshRemote(ssh, lab.outside('far')) : undefined, '25s'],
];

/** Every entry at the destination (dotfiles, rsync's temp files and partial folders too). */
const entries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe.each(remotes)('drain to %s', (_label, remote, budget) => {
  it.skipIf(!remote)('with a budget too short for everything: the newest files arrive whole, the rest is named, exit 5, and an old marker is gone', async () => {
    const { lab, dest, content } = drainLab(remote as (lab: Lab) => string);
    lab.write(`${dest}/COMPLETE`, 'from an earlier drain\n');
    // One file per rsync call: the order asserted below is then labsync's, not rsync's name order.
    const r = await lab.cli(['drain', '--budget', budget, '--json'], { env: { LABSYNC_DRAIN_BATCH: '1' } });
    expect(r.exitCode, r.stderr).toBe(5);
    const pair = json<Doc>(r).pairs[0];
    expect(pair?.status).toBe('partial');
    const arrived = entries(dest);
    // No marker, no temp file (.f3.bin.XXXXXX), no partial folder: only whole files.
    expect(arrived.every((name) => /^f\d\.bin$/.test(name)), arrived.join(' ')).toBe(true);
    for (const name of arrived) expect(readFileSync(`${dest}/${name}`).equals(content.get(name) as Buffer), name).toBe(true);
    // Some arrived, not all; and those are the newest ones.
    expect(arrived.length).toBeGreaterThan(0);
    expect(arrived.length).toBeLessThan(FILES);
    expect(new Set(arrived)).toEqual(new Set(NEWEST_FIRST.slice(0, arrived.length)));
    expect(pair?.left).toEqual(NEWEST_FIRST.slice(arrived.length));
    expect(pair?.error).toMatch(new RegExp(`the budget ended with ${FILES - arrived.length} of ${FILES} planned files not sent: ${NEWEST_FIRST[arrived.length]}`));
    const receipts = readdirSync(lab.path('.labsync', 'receipts')).map((f) => JSON.parse(readFileSync(lab.path('.labsync', 'receipts', f), 'utf8')) as { status: string; left?: string[] });
    expect(receipts).toEqual([expect.objectContaining({ status: 'partial', left: NEWEST_FIRST.slice(arrived.length) })]);
    // Over ssh a listing's far side (the sshd's child) may still be ending when the client was stopped.
    await until('no process of this lab left', () => processesLeft(lab.root).length === 0, 15_000);

    // With time enough, the rest goes and the marker is written last, naming the files it vouches for.
    const done = await lab.cli(['drain', 'ckpt', '--budget', '60s', '--json']);
    expect(done.exitCode, done.stderr).toBe(0);
    expect(json<Doc>(done).pairs[0]).toMatchObject({ status: 'ok', files: FILES - arrived.length });
    expect(entries(dest)).toEqual(['COMPLETE', ...NEWEST_FIRST.slice().reverse()]);
    expect(JSON.parse(readFileSync(`${dest}/COMPLETE`, 'utf8'))).toMatchObject({ pair: 'ckpt', files: FILES });
    // The marker is drain's own: a check neither counts it as drift nor a push as something to send.
    expect((await lab.cli(['check', 'ckpt'])).exitCode).toBe(0);
  });
});

describe('labsync drain and the host\'s SIGTERM', () => {
  it('a SIGTERM while it drains (the spot reclaim it runs for) is told, and the drain goes on to the end: everything sent, the marker written', async () => {
    const { lab, dest } = drainLab((l) => `{ type: local, path: "${l.outside('far')}" }`, '    bwlimit: 40K\n');
    const run = lab.spawn(['drain', '--budget', '60s', '--json'], { env: { LABSYNC_DRAIN_BATCH: '1' } });
    await until('the newest file arrived', () => existsSync(`${dest}/${NEWEST_FIRST[0]}`), 30_000);
    // Not run.kill: execa follows its SIGTERM with a SIGKILL after 5 s.
    process.kill(run.pid as number, 'SIGTERM');
    const r = await run;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toContain('SIGTERM: the drain goes on until its budget ends');
    expect(entries(dest)).toEqual(['COMPLETE', ...NEWEST_FIRST.slice().reverse()]);
  }, 90_000);

  it('a SIGTERM to every process of the unit (systemd, Slurm), rsync included: the batch it stopped is sent again, the drain completes', async () => {
    const { lab, dest } = drainLab((l) => `{ type: local, path: "${l.outside('far')}" }`, '    bwlimit: 40K\n');
    const run = lab.spawn(['drain', '--budget', '60s', '--json'], { env: { LABSYNC_DRAIN_BATCH: '1' } });
    await until('the newest file arrived', () => existsSync(`${dest}/${NEWEST_FIRST[0]}`), 30_000);
    const rsyncs = execFileSync('pgrep', ['-f', `^rsync .*${dest}`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    expect(rsyncs.length).toBeGreaterThan(0);
    for (const pid of [run.pid as number, ...rsyncs]) process.kill(pid, 'SIGTERM');
    const r = await run;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(entries(dest)).toEqual(['COMPLETE', ...NEWEST_FIRST.slice().reverse()]);
  }, 90_000);
});

describe('drain while the folder changes', () => {
  it('a planned file deleted mid-drain (a trainer rotating checkpoints) is skipped, the rest still goes, the marker is written; a mirror\'s extras are said', async () => {
    const { lab, dest } = drainLab((l) => `{ type: local, path: "${l.outside('far')}" }`, '    bwlimit: 10K\n    delete: true\n');
    lab.write(`${dest}/stale.bin`, 'only at the destination\n');
    const run = lab.cli(['drain', '--budget', '60s', '--json'], { env: { LABSYNC_DRAIN_BATCH: '1' } });
    // The newest file arrived: f3 is still waiting its turn; it goes away here.
    await until('the newest file arrived', () => existsSync(`${dest}/${NEWEST_FIRST[0]}`), 30_000);
    rmSync(lab.path('ckpt', 'f3.bin'));
    const r = await run;
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const pair = json<{ pairs: { status: string; warnings: string[] }[] }>(r).pairs[0];
    expect(pair?.status).toBe('ok');
    expect(entries(dest)).toEqual(['COMPLETE', ...NEWEST_FIRST.filter((n) => n !== 'f3.bin').reverse(), 'stale.bin'].sort());
    expect(JSON.parse(readFileSync(`${dest}/COMPLETE`, 'utf8'))).toMatchObject({ files: FILES - 1 });
    expect(pair?.warnings.join('\n')).toMatch(/1 file only at the destination \(stale\.bin\): a drain deletes nothing; the pair's next push does/);
  });
});

// aws and rclone to S3 (moto): an object appears only when its PUT completes, so whatever is listed is
// whole. rclone is slowed by the pair's bwlimit; aws by its own config (max_bandwidth), in the lab's
// AWS_CONFIG_FILE, since aws has no bwlimit flag. aws (s3transfer) throttles only past 256 KiB read,
// so its files are 1 MB at 256 KB/s: a 1 MB `aws s3 cp` to moto took 3.5 s with it, 0.7 s without.
const slowS3: [string, string, number, (lab: Lab) => void][] = [
  ['rclone', '    tool: rclone\n    bwlimit: 10K\n', 30_000, () => undefined],
  ['aws', '    tool: aws\n', 1_000_000, (lab) => lab.write(lab.env.AWS_CONFIG_FILE as string, '[default]\ns3 =\n  max_bandwidth = 256KB/s\n')],
];

describe.skipIf(!s3).each(slowS3)('drain to s3 with %s', (_tool, extra, size, slow) => {
  it('with a budget too short for everything: the newest objects arrive whole, the rest is named, exit 5, no marker; a second drain completes and writes it', async () => {
    const server = s3 as S3Server;
    const probe = new Lab();
    const bucket = await makeBucket(server, probe.env);
    const { lab, content } = drainLab(() => `{ type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}" }`, extra, size);
    slow(lab);
    const old = lab.outside('old-marker');
    lab.write(old, 'from an earlier drain\n');
    await awsCli(server, lab.env, ['s3', 'cp', old, `s3://${bucket}/lab/ckpt/COMPLETE`]);
    const objects = async (): Promise<string[]> => (await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/lab/ckpt/`])).trim().split('\n').filter(Boolean).map((l) => l.slice(31).replace(/^lab\/ckpt\//, '')).sort();
    const env = { ...S3_KEYS, LABSYNC_DRAIN_BATCH: '1' };
    const r = await lab.cli(['drain', '--budget', '15s', '--json'], { env });
    expect(r.exitCode, r.stderr + r.stdout).toBe(5);
    const pair = json<Doc>(r).pairs[0];
    expect(pair?.status).toBe('partial');
    const arrived = await objects();
    // The old marker was removed first, and no new one written.
    expect(arrived.every((name) => /^f\d\.bin$/.test(name)), arrived.join(' ')).toBe(true);
    for (const name of arrived) {
      const got = lab.outside(`got-${name}`);
      await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/lab/ckpt/${name}`, got]);
      expect(readFileSync(got).equals(content.get(name) as Buffer), name).toBe(true);
    }
    expect(arrived.length).toBeGreaterThan(0);
    expect(arrived.length).toBeLessThan(FILES);
    expect(new Set(arrived)).toEqual(new Set(NEWEST_FIRST.slice(0, arrived.length)));
    expect(pair?.left).toEqual(NEWEST_FIRST.slice(arrived.length));
    expect(pair?.error).toMatch(new RegExp(`the budget ended with ${FILES - arrived.length} of ${FILES} planned files not sent: ${NEWEST_FIRST[arrived.length]}`));
    await until('no process of this lab left', () => processesLeft(lab.root).length === 0, 15_000);

    const done = await lab.cli(['drain', 'ckpt', '--budget', '90s', '--json'], { env: S3_KEYS });
    expect(done.exitCode, done.stderr + done.stdout).toBe(0);
    expect(json<Doc>(done).pairs[0]).toMatchObject({ status: 'ok', files: FILES - arrived.length });
    expect(await objects()).toEqual(['COMPLETE', ...NEWEST_FIRST.slice().reverse()]);
    expect(JSON.parse(await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/lab/ckpt/COMPLETE`, '-']))).toMatchObject({ pair: 'ckpt', files: FILES });
    // The marker is drain's own: a check does not count it as drift; validate accepts drain_marker here.
    expect((await lab.cli(['check', 'ckpt'], { env: S3_KEYS })).exitCode).toBe(0);
    expect((await lab.cli(['validate'])).exitCode).toBe(0);
  });
});

describe('drain --dry-run', () => {
  it('lists the files it would send, newest first, and sends nothing (the old marker stays)', async () => {
    const { lab, dest } = drainLab((l) => `{ type: local, path: "${l.outside('far')}" }`);
    lab.write(`${dest}/COMPLETE`, 'from an earlier drain\n');
    const r = await lab.cli(['drain', '--dry-run', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json<{ pairs: { status: string; changes: { transfer: string[] } }[] }>(r).pairs[0]).toMatchObject({ status: 'planned', changes: { transfer: NEWEST_FIRST } });
    expect(entries(dest)).toEqual(['COMPLETE']);
  });
});

describe('drain: what it refuses', () => {
  it('names what to do when no pair is tagged drain, and rejects a bad budget (exit 2, nothing run)', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndata:\n  - { name: raw, local: raw, remote: "file://${lab.outside('nas')}" }\n`);
    lab.write(lab.path('raw', 'a'), 'a');
    const none = await lab.cli(['drain']);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('no pair to drain: name them, or tag them "drain" in the manifest (tags: [drain])');
    const bad = await lab.cli(['drain', 'raw', '--budget', 'soon']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--budget needs a duration of at least 4s, like 25s, 90s or 2m; got 'soon'");
    expect(existsSync(lab.outside('nas'))).toBe(false);
  });

  it('refuses a pair it cannot drain (exit 3), and says at validate that drain_marker needs such a pair', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndata:\n  - { name: s3pull, local: raw, remote: "s3://bucket/raw", mode: pull }\n`);
    lab.write(lab.path('raw', 'a'), 'a');
    const r = await lab.cli(['drain', 's3pull']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('drain pushes rsync pairs to a local or ssh remote, and aws or rclone pairs to an s3 remote, newest files first (this pair: aws pull to a s3 remote)');
    lab.manifest(`version: 1\ndata:\n  - { name: s3pull, local: raw, remote: "s3://bucket/raw", mode: pull, drain_marker: DONE }\n  - { name: bad, local: raw, remote: "file:///x", drain_marker: ../up }\n`);
    const v = await lab.cli(['validate']);
    expect(v.exitCode).toBe(2);
    expect(v.stderr).toMatch(/labsync\.yaml:3:\d+ data\.s3pull: drain_marker: drain pushes rsync pairs to a local or ssh remote, and aws or rclone pairs to an s3 remote \(this pair: aws pull to a s3 remote\)/);
    expect(v.stderr).toMatch(/labsync\.yaml:4:\d+ data\.bad: drain_marker: must be a plain file name/);
  });
});

describe('drain_marker in the manifest tools', () => {
  it('validate shows it, schema describes it, and init\'s template mentions it', async () => {
    const { lab } = drainLab((l) => `{ type: local, path: "${l.outside('far')}" }`);
    const v = await lab.cli(['validate']);
    expect(v.exitCode, v.stderr).toBe(0);
    expect(v.stdout).toContain('data.ckpt  rsync push  far:ckpt  (drain marker COMPLETE)');
    const schema = JSON.parse((await lab.cli(['schema'])).stdout) as { $defs?: unknown };
    expect(JSON.stringify(schema)).toContain('"drain_marker"');
    const fresh = new Lab();
    expect((await fresh.cli(['init'])).exitCode).toBe(0);
    expect(readFileSync(fresh.path('labsync.yaml'), 'utf8')).toContain('# drain_marker: COMPLETE');
  });
});

/** A termination-notice endpoint on 127.0.0.1: `answer` decides each reply; `hits` counts the polls. */
async function noticeServer(answer: () => { status: number; body: string }): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    const a = answer();
    res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notice`, hits: () => hits, server };
}

describe('watch drains', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  /** watch on the local-remote lab, with its own log; resolves once it watches. */
  async function startWatch(lab: Lab, args: string[], env: Record<string, string> = {}) {
    const run = lab.spawn(['watch', '--debounce', '60', '--no-initial-push', '--log-file', lab.outside('watch.log'), ...args], { env });
    let stderr = '';
    run.stderr?.on('data', (c: Buffer) => void (stderr += c.toString()));
    await until('watch to be ready', () => stderr.includes('watching ckpt'), 30_000);
    return { run, stderr: () => stderr };
  }
  const local = (lab: Lab): string => `{ type: local, path: "${lab.outside('far')}" }`;

  it('on SIGTERM: pushes everything within --drain-budget and writes the marker (SIGINT would only stop)', async () => {
    const { lab, dest } = drainLab(local, '');
    const { run, stderr } = await startWatch(lab, ['--drain-budget', '60s']);
    // Not run.kill: execa follows its SIGTERM with a SIGKILL after 5 s, and a drain may take longer.
    process.kill(run.pid as number, 'SIGTERM');
    const done = await run;
    expect(done.exitCode, stderr()).toBe(0);
    expect(stderr()).toContain('stopping: finishing nothing new, stopping any running transfer; then draining');
    expect(entries(dest)).toEqual(['COMPLETE', ...NEWEST_FIRST.slice().reverse()]);
    expect(processesLeft(lab.root)).toEqual([]);
  });

  it.each([
    ['AWS (404 until a notice, then a JSON body)', { status: 404, body: 'Not Found' }, { status: 200, body: '{"action":"terminate","time":"2026-12-04T22:00:00Z"}' }],
    ['GCP (FALSE until preempted, then TRUE)', { status: 200, body: 'FALSE' }, { status: 200, body: 'TRUE' }],
  ])('a termination notice mid-watch drains and exits: %s', async (_label, before, after) => {
    const { lab, dest } = drainLab(local, '');
    let noticed = false;
    const notice = await noticeServer(() => (noticed ? after : before));
    servers.push(notice.server);
    const { run, stderr } = await startWatch(lab, ['--drain-on-notice', notice.url, '--drain-budget', '60s'], { LABSYNC_NOTICE_INTERVAL_MS: '100' });
    await until('a few polls answered "no notice"', () => notice.hits() >= 3, 30_000);
    expect(entries(dest)).toEqual([]);
    noticed = true;
    const done = await run; // exits by itself once drained
    expect(done.exitCode, stderr()).toBe(0);
    expect(stderr()).toMatch(/termination notice from http:\/\/127\.0\.0\.1:\d+\/notice \(.+\): stopping, then draining/);
    expect(entries(dest)).toEqual(['COMPLETE', ...NEWEST_FIRST.slice().reverse()]);
  });

  it('the SIGTERM that follows a notice (Kubernetes, systemd) lets the drain it started go on to the end', async () => {
    const { lab, dest } = drainLab(local, '    bwlimit: 40K\n');
    const notice = await noticeServer(() => ({ status: 200, body: 'TRUE' }));
    servers.push(notice.server);
    const { run, stderr } = await startWatch(lab, ['--drain-on-notice', notice.url, '--drain-budget', '90s'], { LABSYNC_NOTICE_INTERVAL_MS: '100' });
    await until('the drain to have begun', () => entries(dest).length > 0, 30_000);
    // Not run.kill: execa follows its SIGTERM with a SIGKILL after 5 s, and a drain may take longer.
    process.kill(run.pid as number, 'SIGTERM');
    const done = await run;
    expect(done.exitCode, stderr()).toBe(0);
    expect(stderr()).toContain('warning: SIGTERM: draining already');
    expect(entries(dest)).toEqual(['COMPLETE', ...NEWEST_FIRST.slice().reverse()]);
  });

  it('a notice URL that does not answer is said once (per kind of failure), and watch goes on until stopped', async () => {
    const { lab, dest } = drainLab(local, '');
    // A port that was just free: nothing listens there now (fetch refuses port 1 itself as a "bad port").
    const gone = await noticeServer(() => ({ status: 404, body: '' }));
    await new Promise((r) => gone.server.close(r));
    const { run, stderr } = await startWatch(lab, ['--drain-on-notice', gone.url], { LABSYNC_NOTICE_INTERVAL_MS: '100' });
    await until('the warning', () => stderr().includes(`termination notice ${gone.url}: ECONNREFUSED`), 30_000);
    run.kill('SIGINT');
    const done = await run;
    expect(done.exitCode, stderr()).toBe(0);
    const said = stderr().split('\n').filter((line) => line.includes(`termination notice ${gone.url}`)).map((line) => line.replace(/^\S+ /, ''));
    expect(said.length).toBeGreaterThan(0);
    expect(new Set(said).size, stderr()).toBe(said.length);
    expect(entries(dest)).toEqual([]);
  });

  it('an endpoint that answers with an error is said once over many polls, and is no notice', async () => {
    const { lab, dest } = drainLab(local, '');
    const notice = await noticeServer(() => ({ status: 503, body: 'unavailable' }));
    servers.push(notice.server);
    const { run, stderr } = await startWatch(lab, ['--drain-on-notice', notice.url], { LABSYNC_NOTICE_INTERVAL_MS: '100' });
    await until('five polls', () => notice.hits() >= 5, 30_000);
    run.kill('SIGINT');
    const done = await run;
    expect(done.exitCode, stderr()).toBe(0);
    expect(stderr().split(`termination notice ${notice.url}: HTTP 503`).length - 1, stderr()).toBe(1);
    expect(entries(dest)).toEqual([]);
  });

  it('rejects a notice URL that is not http(s) (exit 2)', async () => {
    const { lab } = drainLab(local, '');
    const r = await lab.cli(['watch', '--drain-on-notice', 'file:///etc/passwd']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("--drain-on-notice needs an http(s) URL, got 'file:///etc/passwd'");
  });
});

