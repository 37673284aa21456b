// The manifest most ssh tests start from: one data pair `raw` pushed to `gpu:raw`, the lab's `gpu` folder
// on the loopback sshd.
import type { Lab } from './lab.js';
import { sshRemote, type SshHost } from './sshd.js';

export interface SshPairOptions {
  /** More lines of the pair, each indented four spaces (`    delete: true\n`). */
  readonly pair?: string;
  readonly retries?: number;
  /** Set when retries are tested: a short delay keeps the test quick. */
  readonly retryDelay?: string;
  /** Another port than the host's (a dead one). */
  readonly port?: number;
}

export function sshPairManifest(host: SshHost, lab: Lab, o: SshPairOptions = {}): string {
  return `version: 1
defaults:
  retries: ${o.retries ?? 0}
${o.retryDelay ? `  retry_delay: ${o.retryDelay}\n` : ''}remotes:
  gpu: ${sshRemote({ ...host, port: o.port ?? host.port }, lab.outside('gpu'))}
data:
  - name: raw
    local: raw
    remote: "gpu:raw"
${o.pair ?? ''}`;
}
