// `schedule --kubernetes`: the CronJobs it prints are checked against the published Kubernetes types
// (kubernetes-types 1.30) by the TypeScript compiler, not by eye: each document becomes an object
// literal typed CronJob, where excess-property checks catch a misspelt or misplaced field.
import { execa } from 'execa';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Lab } from './harness/lab.js';
import { REPO } from './harness/tools.js';

const MANIFEST = `version: 1
remotes:
  store: { type: local, path: ../store }
data:
  - name: corpus
    local: data/corpus
    remote: store:corpus
    shards: 4
    schedule: "30 1 * * *"
  - name: tok.v2
    local: data/tok
    remote: store:tok
    schedule: "@hourly"
  - name: unscheduled
    local: data/other
    remote: store:other
`;

/** tsc --strict over `files` (name → the documents as an object literal typed CronJob[]); its diagnostics. */
async function typecheck(dir: string, files: Record<string, unknown>): Promise<{ exitCode: number; out: string }> {
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  for (const [name, docs] of Object.entries(files)) {
    writeFileSync(join(dir, name), `import type { CronJob } from 'kubernetes-types/batch/v1';\nexport const jobs: CronJob[] = ${JSON.stringify(docs, null, 2)};\n`);
  }
  const compilerOptions = { strict: true, exactOptionalPropertyTypes: true, noEmit: true, module: 'esnext', moduleResolution: 'bundler', types: [] };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: Object.keys(files) }));
  const r = await execa(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', dir], { cwd: dir, reject: false });
  return { exitCode: r.exitCode ?? -1, out: `${String(r.stdout)}${String(r.stderr)}` };
}

describe('schedule --kubernetes', () => {
  it('prints one CronJob per scheduled pair, an Indexed Job with completions = parallelism = shards, that the Kubernetes types accept; broken ones they refuse', async () => {
    const lab = new Lab().manifest(MANIFEST);
    const r = await lab.cli(['schedule', '--kubernetes', '--image', 'registry.example/lab/labsync:1.0']);
    expect(r.exitCode, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJS() as { metadata: { name: string }; spec: { schedule: string; concurrencyPolicy: string; jobTemplate: { spec: Record<string, unknown> & { template: { spec: { restartPolicy: string; containers: { image: string; command: string[]; args: string[]; workingDir: string }[] } } } } } };
    });
    expect(docs.map((d) => d.metadata.name)).toEqual(['labsync-corpus', expect.stringMatching(/^labsync-tok-v2-[0-9a-f]{6}$/)]);
    const [corpus, tok] = docs as [typeof docs[number], typeof docs[number]];
    expect(corpus.spec.schedule).toBe('30 1 * * *');
    expect(tok.spec.schedule).toBe('@hourly');
    expect(corpus.spec.jobTemplate.spec).toMatchObject({ completionMode: 'Indexed', completions: 4, parallelism: 4 });
    expect(tok.spec.jobTemplate.spec).toMatchObject({ completionMode: 'Indexed', completions: 1, parallelism: 1 });
    // A hung pod ends past every attempt's timeout (default 2 h × 4 attempts, + 10 min): under Forbid it held back every later tick.
    expect(tok.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(2 * 3600 * 4 + 600);
    const container = corpus.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container).toMatchObject({ image: 'registry.example/lab/labsync:1.0', command: ['labsync'], workingDir: lab.path() });
    expect(container?.args).toEqual(['-c', lab.path('labsync.yaml'), 'sync', '--shard', '$(JOB_COMPLETION_INDEX)/4', 'corpus']);
    expect(tok.spec.jobTemplate.spec.template.spec.containers[0]?.args).toEqual(['-c', lab.path('labsync.yaml'), 'sync', 'tok.v2']);

    // The same documents, and three broken on purpose: the compiler must pass the first and fail each other.
    const broken = (edit: (d: typeof corpus) => void): unknown => {
      const copy = structuredClone(corpus);
      edit(copy);
      return [copy];
    };
    const checked = await typecheck(lab.outside('k8s-types'), {
      'generated.ts': docs,
      'misspelt.ts': broken((d) => {
        const spec = d.spec.jobTemplate.spec;
        spec.completionsMode = spec.completionMode;
        delete spec.completionMode;
      }),
      'wrong-type.ts': broken((d) => void (d.spec.jobTemplate.spec.parallelism = '4')),
      'misplaced.ts': broken((d) => {
        // completionMode belongs to the Job, not the CronJob.
        (d.spec as Record<string, unknown>).completionMode = 'Indexed';
      }),
    });
    expect(checked.out).not.toMatch(/generated\.ts/);
    expect(checked.out).toMatch(/misspelt\.ts\(\d+,\d+\): error TS2353: .*'"completionsMode"' does not exist in type 'JobSpec'/);
    expect(checked.out).toMatch(/wrong-type\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    expect(checked.out).toMatch(/misplaced\.ts\(\d+,\d+\): error TS2353: .*'"completionMode"' does not exist in type 'CronJobSpec'/);
    expect(checked.exitCode).toBe(2);
  });

  it('needs an image, refuses --install, and one scheduler at a time', async () => {
    const lab = new Lab().manifest(MANIFEST);
    const noImage = await lab.cli(['schedule', '--kubernetes']);
    expect([noImage.exitCode, noImage.stderr]).toEqual([2, expect.stringMatching(/--kubernetes needs --image IMAGE/)]);
    const blank = await lab.cli(['schedule', '--kubernetes', '--image', 'a b']);
    expect([blank.exitCode, blank.stderr]).toEqual([2, expect.stringMatching(/--kubernetes needs --image IMAGE.*got "a b"/)]);
    const install = await lab.cli(['schedule', '--kubernetes', '--image', 'x', '--install']);
    expect([install.exitCode, install.stderr]).toEqual([2, expect.stringMatching(/kubectl apply -f -/)]);
    const both = await lab.cli(['schedule', '--kubernetes', '--slurm', '--image', 'x']);
    expect([both.exitCode, both.stderr]).toEqual([2, expect.stringMatching(/--slurm and --kubernetes cannot be used together/)]);
    const stray = await lab.cli(['schedule', '--slurm', '--image', 'x']);
    expect([stray.exitCode, stray.stderr]).toEqual([2, expect.stringMatching(/--image is for --kubernetes/)]);
  });
});
