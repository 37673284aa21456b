// `doctor`: what each ssh host of an rsync pair lacks for labsync's own listing and hashing, said once per host.
import { capabilityCommand, parseCapabilities } from '../adapters/rsync/remote.js';
import { sshTarget } from '../adapters/rsync/ssh.js';
import { makeRedactor } from '../exec/redact.js';
import { run } from '../exec/run.js';
import type { Manifest } from '../types.js';

export async function hostProblems(manifest: Manifest): Promise<string[]> {
  const seen = new Map<string, Promise<string[]>>();
  for (const pair of manifest.pairs) {
    if (pair.tool !== 'rsync' || pair.remote.type !== 'ssh') continue;
    const remote = pair.remote;
    const name = `${sshTarget(remote)}:${remote.port ?? 22}`;
    if (seen.has(name)) continue;
    seen.set(name, run(capabilityCommand(pair, remote), { redact: makeRedactor(), timeoutMs: 20_000 }).then((out) =>
      out.exitCode === 0 ? parseCapabilities(out.stdout).map((p) => `${sshTarget(remote)} ${p}`) : [`${sshTarget(remote)}: cannot tell what it has (ssh exit ${out.exitCode})`]));
  }
  return (await Promise.all(seen.values())).flat();
}
