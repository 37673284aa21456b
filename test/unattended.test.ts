// Runs with nobody watching: hooks, health pings, CI output, heartbeats, receipts, schedules, watch.
import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { processesMentioning } from './harness/processes.js';

function pairLab(extra = '', defaults = ''): Lab {
  const lab = new Lab();
  lab.manifest(`version: 1\ndefaults:\n  retries: 0\n${defaults}remotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - name: raw\n    local: raw\n    remote: nas:raw\n${extra}`);
  lab.write(lab.path('raw/a.csv'), 'a\n').write(lab.path('raw/b.csv'), 'bb\n');
  return lab;
}

async function pingServer(): Promise<{ url: string; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(req.url?.includes('/broken') ? 500 : 200).end('OK');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, hits, server };
}

describe('hooks', () => {
  it('run as argv with the pair in their environment: before, after; on_failure when it fails', async () => {
    const out = new Lab().outside('hook.log');
    const hook = (name: string): string => `["sh", "-c", "echo ${name} $LABSYNC_PAIR $LABSYNC_STATUS $LABSYNC_FILES $LABSYNC_BYTES >> ${out}"]`;
    const lab = pairLab(`    hooks:\n      before: ${hook('before')}\n      after: ${hook('after')}\n      on_failure: ${hook('failure')}\n`);
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('before raw running 0 0\nafter raw ok 2 5\n');
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('local: raw', 'local: missing'));
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(3);
    expect(readFileSync(out, 'utf8').split('\n').at(-2)).toBe('failure raw refused 0 0');
  });

  it('a failing before hook skips the pair (failed, nothing sent); a failing after hook only warns', async () => {
    const lab = pairLab('    hooks:\n      before: ["sh", "-c", "echo export broke >&2; exit 3"]\n');
    const r = await lab.cli(['data', 'push', '--json']);
    expect(r.exitCode).toBe(1);
    expect(json<{ pairs: { status: string; error: string }[] }>(r).pairs[0]).toMatchObject({ status: 'failed', error: 'before hook sh exited 3: export broke; the pair was skipped' });
    expect(existsSync(lab.outside('nas/raw'))).toBe(false);
    const hung = pairLab('    timeout: 1s\n    hooks:\n      before: ["sleep", "30"]\n');
    const r3 = await hung.cli(['data', 'push', '--json']);
    expect(r3.exitCode).toBe(1);
    expect(json<{ pairs: { error: string }[] }>(r3).pairs[0]?.error).toBe('before hook sleep: timed out; the pair was skipped');
    expect(r3.durationMs).toBeLessThan(15_000);
    const after = pairLab('    hooks:\n      after: ["no-such-program-xyz"]\n');
    const r2 = await after.cli(['data', 'push', '--json']);
    expect(r2.exitCode).toBe(0);
    expect(json<{ pairs: { warnings: string[] }[] }>(r2).pairs[0]?.warnings).toEqual(['after hook no-such-program-xyz: cannot start (not found)']);
  });
});

describe('a hook that leaves a process running', () => {
  it('ends when the hook does: its background process (a tunnel, a daemon) holding the hook\'s output does not hold the run (review 42: it held it to the pair\'s timeout)', async () => {
    const lab = pairLab('    hooks:\n      before: ["sh", "-c", "sleep 29.125 & echo tunnel up"]\n      after: ["sh", "-c", "setsid sleep 29.25 & echo done"]\n');
    try {
      const r = await lab.cli(['data', 'push', '--json']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(json<{ pairs: { status: string; warnings?: string[] }[] }>(r).pairs[0]).toMatchObject({ status: 'ok' });
      expect(json<{ pairs: { warnings?: string[] }[] }>(r).pairs[0]?.warnings ?? []).toEqual([]);
      // Well before either sleep ends (a hang detector, not a speed bound).
      expect(r.durationMs).toBeLessThan(20_000);
    } finally {
      for (const p of [...processesMentioning('sleep 29.125'), ...processesMentioning('sleep 29.25')]) process.kill(p.pid, 'SIGKILL');
    }
  });
});

describe('health pings', () => {
  it('ping start and success, or start and failure, on a server on 127.0.0.1', async () => {
    const { url, hits, server } = await pingServer();
    try {
      const lab = pairLab('', `  notify: { start: "\${HC}/start", success: "\${HC}", failure: "\${HC}/fail" }\n`);
      expect((await lab.cli(['data', 'push'], { env: { HC: `${url}/check-1` } })).exitCode).toBe(0);
      expect(hits).toEqual(['/check-1/start', '/check-1']);
      lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('local: raw', 'local: gone'));
      await lab.cli(['data', 'push'], { env: { HC: `${url}/check-1` } });
      expect(hits.slice(2)).toEqual(['/check-1/start', '/check-1/fail']);
      // A ping the server answers with an error is retried (3 tries), then a warning; the sync is unaffected.
      lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('local: gone', 'local: raw'));
      const broken = await lab.cli(['data', 'push'], { env: { HC: `${url}/broken` } });
      expect(broken.exitCode).toBe(0);
      expect(broken.stderr).toMatch(/health ping to http:\/\/127\.0\.0\.1:\d+\/… failed \(HTTP 500\)/);
      expect(hits.filter((h) => h === '/broken')).toHaveLength(3);
    } finally {
      server.close();
    }
  });

  it('a ping that cannot be sent is a warning, never a failed sync, and never shows the URL\'s secret path', async () => {
    const { freePort } = await import('./harness/sshd.js');
    const closed = await freePort();
    const lab = pairLab('', `  notify: { success: "http://127.0.0.1:${closed}/secret-uuid-1234" }\n`);
    const r = await lab.cli(['data', 'push']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`warning: raw: health ping to http://127.0.0.1:${closed}/… failed (ECONNREFUSED); the sync itself is unaffected`);
    expect(r.stdout + r.stderr).not.toContain('secret-uuid-1234');
  });
});

describe('where nobody is watching', () => {
  it('appends a Markdown summary to $GITHUB_STEP_SUMMARY and annotates failures for GitHub Actions', async () => {
    const lab = pairLab();
    const summary = lab.outside('summary.md');
    writeFileSync(summary, '# earlier step\n');
    const env = { GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true' };
    await lab.cli(['data', 'push', '--json'], { env });
    expect(readFileSync(summary, 'utf8')).toMatch(/^# earlier step\n### labsync data push: ✅ ok\n\n\| pair \| action \| status .*\n.*\n\| data\.raw \| push \| ok \| 2 \|/);
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace('local: raw', 'local: gone'));
    const r = await lab.cli(['data', 'push', '--json'], { env });
    // The annotation lands on the pair's line of the manifest, the path relative to the repository (the cwd here).
    expect(r.stderr).toMatch(/^::error file=labsync\.yaml,line=7,col=5,title=labsync data\.raw%3A refused::the source .*gone does not exist/m);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    const fromRepo = await lab.cli(['-c', lab.path('labsync.yaml'), 'data', 'push'], { env: { ...env, GITHUB_WORKSPACE: lab.outside() }, cwd: lab.outside() });
    expect(fromRepo.stderr).toMatch(/^::error file=lab\/labsync\.yaml,line=7,col=5,title=/m);
    expect(readFileSync(summary, 'utf8')).toContain('### labsync data push: ❌ not ok');
  });

  it('off a terminal, prints a heartbeat while a long transfer runs', async () => {
    const lab = pairLab('    bwlimit: 200K\n');
    lab.write(lab.path('raw/big.bin'), randomBytes(1024 * 1024));
    const r = await lab.cli(['data', 'push'], { env: { LABSYNC_HEARTBEAT_SECONDS: '1' } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/raw: still running \(pushing\) \d+%/);
  });

  it('with --json too: the heartbeat goes to stderr and stdout stays one JSON document (CI stops a job silent for minutes)', async () => {
    const lab = pairLab('    bwlimit: 200K\n');
    lab.write(lab.path('raw/big.bin'), randomBytes(1024 * 1024));
    const r = await lab.cli(['data', 'push', '--json'], { env: { LABSYNC_HEARTBEAT_SECONDS: '1' } });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/^\S+Z raw: still running \(pushing\) \d+%/m);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, pairs: [{ name: 'raw', status: 'ok' }] });
  });

  it('writes a receipt for every run: files, bytes, the tree\'s sums digest, git commit, tool version', async () => {
    const lab = pairLab();
    await execa('git', ['init', '-q', lab.path()], { env: lab.env });
    await execa('git', ['-C', lab.path(), 'commit', '-q', '--allow-empty', '-m', 'start'], { env: lab.env });
    const head = (await execa('git', ['-C', lab.path(), 'rev-parse', 'HEAD'], { env: lab.env })).stdout.trim();
    expect((await lab.cli(['data', 'push'])).exitCode).toBe(0);
    const [name] = readdirSync(lab.path('.labsync/receipts'));
    expect(name).toMatch(/^\d{4}-\d\d-\d\dT[\d-]+\.\d{3}Z-raw\.json$/);
    const receipt = JSON.parse(readFileSync(lab.path('.labsync/receipts', name as string), 'utf8'));
    const sums = `${(await lab.cli(['sums', 'raw'])).stdout}\n`;
    expect(receipt).toMatchObject({
      pair: 'raw', status: 'ok', files: 2, bytes: 5, gitCommit: head, sumsFiles: 2,
      sumsDigest: createHash('sha256').update(sums).digest('hex'), toolVersions: { rsync: expect.stringMatching(/^\d+\.\d+/) },
      // The verify read both new files here; at the copy rsync's own transfer checksum proved them (not
      // read back); the local hashes give the digest (no third listing).
      proof: 'rsync-transfer-checksum', bytesHashed: { local: 5, remote: 0 },
    });
  });

  it('a second run starts no process to learn the version or the commit: both remembered or read from .git', async () => {
    const lab = pairLab();
    await execa('git', ['init', '-q', lab.path()], { env: lab.env });
    await execa('git', ['-C', lab.path(), 'commit', '-q', '--allow-empty', '-m', 'start'], { env: lab.env });
    const head = (await execa('git', ['-C', lab.path(), 'rev-parse', 'HEAD'], { env: lab.env })).stdout.trim();
    // Real rsync and git behind scripts first on PATH that note each start's arguments.
    const bin = lab.outside('wrapbin');
    const starts = lab.outside('starts.log');
    for (const tool of ['rsync', 'git']) {
      const real = (await execa('sh', ['-c', `command -v ${tool}`], { env: lab.env })).stdout.trim();
      lab.write(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${starts}'\nexec '${real}' "$@"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    const env = { PATH: `${bin}:${lab.env.PATH}` };
    const started = (): string[] => (existsSync(starts) ? readFileSync(starts, 'utf8').split('\n').filter(Boolean) : []);
    expect((await lab.cli(['data', 'push'], { env })).exitCode).toBe(0);
    expect(started().filter((l) => l === 'rsync --version')).toHaveLength(1);
    lab.write(lab.path('raw/c.csv'), 'ccc\n');
    expect((await lab.cli(['data', 'push'], { env })).exitCode).toBe(0);
    expect(started().filter((l) => l === 'rsync --version')).toHaveLength(1);
    expect(started().filter((l) => l.startsWith('git '))).toEqual([]);
    // doctor asks afresh, whatever is remembered.
    await lab.cli(['doctor'], { env });
    expect(started().filter((l) => l === 'rsync --version')).toHaveLength(2);
    const names = readdirSync(lab.path('.labsync/receipts')).sort();
    expect(names).toHaveLength(2);
    for (const name of names) {
      expect(JSON.parse(readFileSync(lab.path('.labsync/receipts', name), 'utf8'))).toMatchObject({ gitCommit: head, toolVersions: { rsync: expect.stringMatching(/^\d+\.\d+/) } });
    }
  });
});

describe('schedule', () => {
  const scheduled = (): Lab => {
    const lab = new Lab();
    lab.manifest(`version: 1\nremotes:\n  nas: { type: local, path: ../nas }\ndata:\n  - { name: a, local: a, remote: "nas:a", schedule: "0 * * * *" }\n  - { name: b, local: b, remote: "nas:b", schedule: "0 * * * *" }\n  - { name: c, local: c, remote: "nas:c", schedule: "30 2 * * mon-fri" }\n  - { name: d, local: d, remote: "nas:d" }\n`);
    return lab;
  };

  it('prints one line per expression, with absolute node, labsync, manifest and a log file', async () => {
    const lab = scheduled();
    const r = await lab.cli(['schedule']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`# BEGIN labsync ${lab.path('labsync.yaml')}`);
    const hourly = lines.find((l) => l.startsWith('0 * * * * ')) as string;
    expect(hourly).toContain(`'${process.execPath}' '`);
    expect(hourly).toMatch(/bin\/labsync\.js' -c '.*labsync\.yaml' --quiet --log-file '.*\.labsync\/logs\/cron\.log' sync 'a' 'b'$/);
    expect(lines.find((l) => l.startsWith('30 2 * * mon-fri '))).toMatch(/sync 'c'$/);
    expect(r.stdout).not.toContain("'d'");
  });

  it('a scheduled run keeps the rclone labsync drives (LABSYNC_RCLONE) and rclone\'s config file, in cron lines and units alike', async () => {
    const lab = scheduled();
    const env = { LABSYNC_RCLONE: '/opt/rclone 1.75/rclone', RCLONE_CONFIG: '/home/me/rclone.conf' };
    const line = (await lab.cli(['schedule'], { env })).stdout.split('\n').find((l) => l.startsWith('0 * * * * ')) as string;
    expect(line).toContain(`LABSYNC_RCLONE='/opt/rclone 1.75/rclone' RCLONE_CONFIG='/home/me/rclone.conf' exec `);
    const units = (await lab.cli(['schedule', '--systemd'], { env })).stdout;
    expect(units).toContain('Environment="LABSYNC_RCLONE=/opt/rclone 1.75/rclone"');
    expect(units).toContain('Environment=RCLONE_CONFIG=/home/me/rclone.conf');
    expect((await lab.cli(['schedule'], { env: { LABSYNC_RCLONE: '', RCLONE_CONFIG: '' } })).stdout).not.toMatch(/LABSYNC_RCLONE|RCLONE_CONFIG/);
  });

  it('--install and --remove edit only its own block, idempotently', async () => {
    const lab = scheduled();
    const tab = lab.outside('crontab');
    writeFileSync(tab, 'MAILTO=me@example.invalid\n15 3 * * * /usr/local/bin/backup\n');
    const opts = ['--crontab-file', tab];
    // --dry-run prints what --install would write and writes nothing (review 41: it installed the block).
    const dry = await lab.cli(['--dry-run', 'schedule', '--install', ...opts]);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/^# BEGIN labsync/m);
    expect(readFileSync(tab, 'utf8')).toBe('MAILTO=me@example.invalid\n15 3 * * * /usr/local/bin/backup\n');
    expect((await lab.cli(['schedule', '--install', ...opts])).stdout).toMatch(/installed 2 schedule lines/);
    const once = readFileSync(tab, 'utf8');
    expect((await lab.cli(['schedule', '--install', ...opts])).stdout).toMatch(/already up to date/);
    expect(readFileSync(tab, 'utf8')).toBe(once);
    expect(once.startsWith('MAILTO=me@example.invalid\n15 3 * * * /usr/local/bin/backup\n# BEGIN labsync')).toBe(true);
    await lab.cli(['schedule', '--remove', ...opts]);
    expect(readFileSync(tab, 'utf8')).toBe('MAILTO=me@example.invalid\n15 3 * * * /usr/local/bin/backup\n');
    expect((await lab.cli(['schedule', '--install', '--remove', ...opts])).exitCode).toBe(2);
  });

  // The real crontab(1), on a throwaway system user's table: never root's own crontab. useradd and
  // crontab -u need root (CI runs as root); elsewhere --crontab-file covers the same edits.
  it.skipIf(process.getuid?.() !== 0)('--install and --remove through the real crontab -u, for a throwaway user', async () => {
    const lab = scheduled();
    const user = `lsct${process.pid % 100000}`;
    await execa('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
    try {
      await execa('crontab', ['-u', user, '-'], { input: '# theirs\n45 1 * * * /bin/true\n' });
      expect((await lab.cli(['schedule', '--install', '--crontab-user', user])).exitCode).toBe(0);
      const installed = (await execa('crontab', ['-u', user, '-l'])).stdout;
      expect(installed).toMatch(/^# theirs\n45 1 \* \* \* \/bin\/true\n# BEGIN labsync .*\n.*\n0 \* \* \* \* cd /);
      expect((await lab.cli(['schedule', '--install', '--crontab-user', user])).stdout).toMatch(/already up to date/);
      await lab.cli(['schedule', '--remove', '--crontab-user', user]);
      expect((await execa('crontab', ['-u', user, '-l'])).stdout).toBe('# theirs\n45 1 * * * /bin/true');
    } finally {
      await execa('crontab', ['-u', user, '-r'], { reject: false });
      await execa('userdel', [user], { reject: false });
    }
  });

  it('--systemd writes .service and Persistent .timer units that systemd-analyze accepts', async () => {
    const lab = scheduled();
    const dir = lab.outside('units');
    expect((await lab.cli(['schedule', '--systemd', '--install', '--unit-dir', dir])).exitCode).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(4);
    const timers = files.filter((f) => f.endsWith('.timer')).map((f) => readFileSync(`${dir}/${f}`, 'utf8'));
    expect(timers.join('\n')).toContain('OnCalendar=*-*-* *:00:00');
    expect(timers.join('\n')).toContain('OnCalendar=Mon,Tue,Wed,Thu,Fri *-*-* 02:30:00');
    expect(timers.every((t) => t.includes('Persistent=true'))).toBe(true);
    const analyze = await execa('systemd-analyze', ['verify', ...files.map((f) => `${dir}/${f}`)], { reject: false });
    if (analyze.failed && /not found|ENOENT/.test(String(analyze.stderr) + String(analyze.shortMessage))) return; // no systemd-analyze on this machine
    expect(String(analyze.stderr).split('\n').filter((l) => /error|Failed|invalid/i.test(l) && !/Failed to (connect|get|open).*bus|Cannot find unit/i.test(l))).toEqual([]);
  });

  it('--systemd: a schedule dropped from the manifest loses its units on the next --install, and --remove removes them all (no one else\'s)', async () => {
    const lab = scheduled();
    const dir = lab.outside('units');
    expect((await lab.cli(['schedule', '--systemd', '--install', '--unit-dir', dir])).exitCode).toBe(0);
    writeFileSync(`${dir}/theirs.timer`, '[Unit]\nDescription=not labsync\n');
    lab.manifest(readFileSync(lab.path('labsync.yaml'), 'utf8').replace(', schedule: "30 2 * * mon-fri"', ''));
    const again = await lab.cli(['schedule', '--systemd', '--install', '--unit-dir', dir]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/systemctl --user disable --now labsync-[0-9a-f]{8}-2\.timer/);
    expect(readdirSync(dir).sort()).toEqual([expect.stringMatching(/^labsync-[0-9a-f]{8}-1\.service$/), expect.stringMatching(/^labsync-[0-9a-f]{8}-1\.timer$/), 'theirs.timer']);
    const removed = await lab.cli(['schedule', '--systemd', '--remove', '--unit-dir', dir]);
    expect(removed.exitCode).toBe(0);
    expect(removed.stdout).toMatch(/removed 2 units/);
    expect(readdirSync(dir)).toEqual(['theirs.timer']);
  });
});

describe('doctor --cron', () => {
  it('names what would break under cron: a passphrase key, a tool outside cron\'s PATH', async () => {
    const lab = new Lab();
    const key = lab.outside('locked_key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'a passphrase', '-f', key]);
    lab.manifest(`version: 1\nremotes:\n  gpu: { type: ssh, host: 127.0.0.1, identity: ${key}, path: /srv }\ndata:\n  - { name: w, local: w, remote: "gpu:w" }\n`);
    const bin = lab.outside('bin');
    const { mkdirSync, symlinkSync } = await import('node:fs');
    mkdirSync(bin);
    symlinkSync('/usr/bin/rsync', `${bin}/rsync`);
    const r = await lab.cli(['doctor', '--cron', '--json'], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(r.exitCode).toBe(1);
    const problems = json<{ cron: { pair?: string; problem: string }[] }>(r).cron.map((c) => c.problem);
    expect(problems).toContainEqual(expect.stringMatching(/^rsync is at .*\/bin\/rsync, outside cron's PATH/));
    expect(problems).toContainEqual(expect.stringMatching(/needs a passphrase: nobody can type it under cron/));
  });
});

describe('watch', () => {
  it('pushes a change after it settles, again on the next change, and stops cleanly on Ctrl-C', async () => {
    const lab = pairLab();
    const run = lab.spawn(['watch', '--debounce', '0.3']);
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // "watching" is printed once the watcher is subscribed: a change before that is not seen.
    let stderr = '';
    run.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    await until('watch to be ready', () => stderr.includes('watching raw'));
    lab.write(lab.path('raw/new.csv'), 'new\n');
    await until('the first push', () => existsSync(lab.outside('nas/raw/new.csv')));
    lab.write(lab.path('raw/new.csv'), 'changed\n');
    await until('the second push', () => existsSync(lab.outside('nas/raw/new.csv')) && readFileSync(lab.outside('nas/raw/new.csv'), 'utf8') === 'changed\n');
    run.kill('SIGINT');
    const done = await run;
    // 0 when Ctrl-C finds watch idle; 130 (SPEC §2) when it stops a run in flight — under load one
    // write's events can straddle the debounce and start one more run.
    expect([0, 130]).toContain(done.exitCode);
    expect(processesMentioning(lab.root)).toEqual([]);
    expect(readFileSync(lab.outside('nas/raw/new.csv'), 'utf8')).toBe('changed\n');
    expect(stderr).toContain('watching raw');
  });
});
