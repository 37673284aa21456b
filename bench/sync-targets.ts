// Where the sync rows' copies go (bench/sync.ts): a loopback sshd or moto, and how labsync and the raw
// tool reach it. Over ssh, also the kept connections: labsync's own, and the raw rsync's reference one.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Server } from '../test/harness/moto.js';
import type { SshHost } from '../test/harness/sshd.js';
import { closeMasters, emulatedPersist, keptOptions, labsyncSockets, masters } from './kept-ssh.js';
import { trash } from './measure.js';

export type Backend = 'ssh' | 'aws' | 'rclone';

/** What keeping the ssh connection between runs changes for one target. */
export interface KeptConnections {
  /** The start of every kept master's ControlPath in the bench (labsync's and rsync's): whose CPU a run counts. */
  readonly prefix: string;
  /** Ends labsync's kept connection, so its next run logs in afresh (a first push, a cold row). */
  closeLabsync(): void;
  /** Whether labsync's connection is kept now. */
  labsyncKept(): boolean;
  /** The raw tool with the same three Control options in its `-e`: its push and its listing. */
  raw(src: string, name: string): { push: string; check: string };
  rawKept(): boolean;
}

/** Where one backend's copies go, and how to point labsync and the raw tool there. */
export interface Target {
  readonly backend: Backend;
  /** The labsync.yaml remotes: block and the pair's remote: (and tool:) lines, for a destination named `name`. */
  manifest(name: string): { remotes: string; pair: string };
  /** The raw tool's transfer of `src` into destination `name`, its checksum compare (if it has one), its listing. */
  raw(src: string, name: string): { push: string; pushLabel: string; compare?: string; compareLabel?: string; check: string; checkLabel: string };
  /** Forget destination `name`, so the next push into it is a first push. */
  clear(name: string): void;
  /** The server's process: its tree's CPU a row counts under LABSYNC_BENCH_SYNC_CPU=1. */
  readonly server: number;
  readonly kept?: KeptConnections;
}

/** `cache`: the runs' XDG_CACHE_HOME, where labsync keeps its sockets; `servers`: the bench's folder. */
export function sshTarget(host: SshHost, remoteDir: string, servers: string, cache: string): Target {
  const rsh = `ssh -o BatchMode=yes -F ${host.sshConfig} -p ${host.port} -i ${host.identity} -o IdentitiesOnly=yes -o UserKnownHostsFile=${host.knownHosts}`;
  const at = (name: string): string => `${host.user}@127.0.0.1:${join(remoteDir, name)}/`;
  const ours = labsyncSockets(cache);
  const rawSocket = join(servers, 'rsync-cm', 'c');
  mkdirSync(join(servers, 'rsync-cm'), { recursive: true, mode: 0o700 });
  const keptRsh = `${rsh} ${keptOptions(rawSocket).map((o) => `-o ${o}`).join(' ')}`;
  const emulated = emulatedPersist(cache, host.user, host.port);
  return {
    backend: 'ssh',
    manifest: (name) => ({
      remotes: `remotes:\n  gpu:\n    type: ssh\n    host: 127.0.0.1\n    user: ${host.user}\n    port: ${host.port}\n    identity: ${host.identity}\n    known_hosts: ${host.knownHosts}\n    ssh_config: ${host.sshConfig}\n    path: ${remoteDir}\n${emulated}`,
      pair: `    remote: "gpu:${name}"\n`,
    }),
    raw: (src, name) => ({
      push: `rsync -a -e '${rsh}' ${src}/ ${at(name)}`, pushLabel: 'rsync -a',
      compare: `rsync -rcn -e '${rsh}' ${src}/ ${at(name)}`, compareLabel: 'rsync -a + rsync -rcn',
      check: `rsync -rn -e '${rsh}' ${src}/ ${at(name)}`, checkLabel: 'rsync -rn',
    }),
    clear: (name) => trash(join(remoteDir, name), join(servers, 'trash')),
    server: host.pid,
    kept: {
      prefix: `${servers}/`,
      closeLabsync: () => closeMasters(ours),
      labsyncKept: () => masters(ours).size > 0,
      raw: (src, name) => ({ push: `rsync -a -e '${keptRsh}' ${src}/ ${at(name)}`, check: `rsync -rn -e '${keptRsh}' ${src}/ ${at(name)}` }),
      rawKept: () => masters(rawSocket).size > 0,
    },
  };
}

export function s3Target(backend: 'aws' | 'rclone', server: S3Server, bucket: string): Target {
  const url = (name: string): string => `s3://${bucket}/${name}/`;
  const rclone = `rclonebench:${bucket}`;
  const list = (name: string): string => `aws --endpoint-url ${server.endpoint} s3api list-objects-v2 --bucket ${bucket} --prefix ${name}/ --output json >/dev/null`;
  return {
    backend,
    // labsync's pair "store:NAME" lands under the prefix bench/; the raw tools write beside it, under NAME/.
    manifest: (name) => ({
      remotes: `remotes:\n  store: { type: s3, bucket: ${bucket}, prefix: bench, region: us-east-1, endpoint: "${server.endpoint}" }\n`,
      pair: `    remote: "store:${name}"\n    tool: ${backend}\n`,
    }),
    raw: (src, name) => backend === 'aws'
      ? { push: `aws --endpoint-url ${server.endpoint} s3 sync --no-progress ${src}/ ${url(name)} >/dev/null`, pushLabel: 'aws s3 sync', check: list(name), checkLabel: 'aws s3api list-objects-v2' }
      : {
          push: `rclone copy ${src} ${rclone}/${name}`, pushLabel: 'rclone copy',
          compare: `rclone check -q ${src} ${rclone}/${name}`, compareLabel: 'rclone copy + rclone check',
          check: list(name), checkLabel: 'aws s3api list-objects-v2',
        },
    // A fresh prefix per first push: deleting 10k objects from moto would cost more than the push.
    clear: () => undefined,
    server: server.pid,
  };
}
