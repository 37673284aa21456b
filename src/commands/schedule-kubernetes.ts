// `labsync schedule --kubernetes --image IMAGE`: one CronJob (batch/v1) per scheduled pair, whose job is an
// Indexed Job with one pod per shard. https://kubernetes.io/docs/concepts/workloads/controllers/job/#completion-mode
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { Manifest, ResolvedPair } from '../types.js';

/** A DNS-1123 label for the pair (a CronJob's name is at most 52 characters: its Jobs add 11). */
export function cronJobName(pair: string): string {
  const slug = pair.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  // Names that had to change get a hash of the original, so `a.b` and `a_b` stay two CronJobs.
  const exact = slug === pair;
  const tag = exact ? '' : `-${createHash('sha256').update(pair).digest('hex').slice(0, 6)}`;
  return `labsync-${slug.slice(0, 52 - 'labsync-'.length - tag.length).replace(/-+$/, '')}${tag}`.replace(/-+$/, '');
}

const shardsOf = (pair: ResolvedPair): number => pair.shards ?? 1;

/** The CronJob as a plain object (what `kubectl apply` reads, once turned into YAML). */
export function cronJob(manifest: Manifest, pair: ResolvedPair, image: string, timeZone?: string): Record<string, unknown> {
  const n = shardsOf(pair);
  // JOB_COMPLETION_INDEX is set in every pod of an Indexed Job; $(VAR) in args is expanded by Kubernetes,
  // not a shell. N comes from the manifest: nothing in the pod says how many completions its Job has.
  const shard = n > 1 ? ['--shard', `$(JOB_COMPLETION_INDEX)/${n}`] : [];
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: cronJobName(pair.name), labels: { 'app.kubernetes.io/name': 'labsync', 'app.kubernetes.io/instance': cronJobName(pair.name) } },
    spec: {
      schedule: pair.schedule,
      // The same wall clock as the cron line `labsync schedule` prints on this machine.
      ...(timeZone ? { timeZone } : {}),
      // A run still going at the next tick is left alone (labsync's lock would refuse the second anyway).
      concurrencyPolicy: 'Forbid',
      jobTemplate: {
        spec: {
          completionMode: 'Indexed',
          completions: n,
          parallelism: n,
          // labsync retries transient failures itself; one more pod per failed shard, and a failed
          // shard does not stop the others (per-index backoff, Kubernetes ≥ 1.29).
          backoffLimitPerIndex: 1,
          // A pod that hangs past every attempt the pair allows is stopped: under Forbid it would hold
          // back every later tick (review 42). Ten minutes beyond the attempts' own timeouts.
          activeDeadlineSeconds: Math.ceil((pair.timeoutMs * (pair.retries + 1)) / 1000) + 600,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{
                name: 'labsync',
                image,
                // The project (manifest and local folders) is expected at the same path inside the pod.
                workingDir: manifest.root,
                command: ['labsync'],
                args: ['-c', manifest.file, 'sync', ...shard, pair.name],
              }],
            },
          },
        },
      },
    },
  };
}

export function cronJobs(manifest: Manifest, image: string, timeZone?: string): Record<string, unknown>[] {
  return manifest.pairs.filter((p) => p.schedule).map((p) => cronJob(manifest, p, image, timeZone));
}

/** The CronJobs as one multi-document YAML stream. */
export function cronJobsYaml(manifest: Manifest, image: string, timeZone?: string): string {
  const docs = cronJobs(manifest, image, timeZone).map((d) => stringify(d, { lineWidth: 0 }));
  return docs.length ? `# labsync schedule --kubernetes for ${manifest.file}\n${docs.map((d) => `---\n${d}`).join('')}` : '# no pair in this manifest has a schedule:\n';
}
