import { describe, expect, it } from 'vitest';
import type { Manifest, ResolvedPair } from '../types.js';
import { sbatchScript, sbatchScripts, slurmTime } from './schedule-slurm.js';

const pair = (over: Partial<ResolvedPair>): ResolvedPair => ({ name: 'raw', schedule: '0 2 * * *', timeoutMs: 2 * 3600_000, retries: 3, ...over }) as ResolvedPair;
const manifest = (pairs: ResolvedPair[], root = '/lab'): Manifest => ({ file: `${root}/labsync.yaml`, root, concurrency: 2, pairs });
const env = { PATH: '/usr/bin:/bin' };
const directives = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('#SBATCH '));

describe('sbatchScript', () => {
  it('a pair with shards: 4 is an array of 4 tasks, each naming its own shard of the manifest\'s N', () => {
    const p = pair({ shards: 4 });
    const s = sbatchScript(manifest([p]), p, env);
    expect(s.file).toBe('/lab/.labsync/slurm/raw.sbatch');
    expect(s.text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(directives(s.text)).toEqual([
      '#SBATCH --job-name=labsync-raw',
      '#SBATCH --array=0-3',
      '#SBATCH --output=/lab/.labsync/logs/slurm/raw-%A_%a.log',
      // timeout 2h × (3 retries + 1 attempt)
      '#SBATCH --time=08:00:00',
      '#SBATCH --signal=B:TERM@60',
    ]);
    const lines = s.text.trimEnd().split('\n');
    expect(lines.at(-2)).toBe("cd '/lab' || exit 2");
    expect(lines.at(-1)).toMatch(/^PATH='\/usr\/bin:\/bin' exec '[^']*node[^']*' '[^']*labsync\.js' '-c' '\/lab\/labsync\.yaml' sync --shard "\$\{SLURM_ARRAY_TASK_ID:\?[^}]*\}\/4" 'raw'$/);
    // Every #SBATCH line comes before the first command: sbatch stops reading them there.
    const firstCommand = lines.findIndex((l) => l !== '' && !l.startsWith('#'));
    expect(lines.map((l, i) => (l.startsWith('#SBATCH') ? i : -1)).filter((i) => i >= 0).every((i) => i < firstCommand)).toBe(true);
  });

  it('one shard (or none declared) is a plain job: no array, no --shard', () => {
    for (const p of [pair({}), pair({ shards: 1 })]) {
      const s = sbatchScript(manifest([p]), p, env);
      expect(directives(s.text)).not.toContainEqual(expect.stringMatching(/--array/));
      expect(directives(s.text)).toContain('#SBATCH --output=/lab/.labsync/logs/slurm/raw-%j.log');
      expect(s.text).not.toContain('--shard');
      expect(s.text.trimEnd().split('\n').at(-1)).toMatch(/ sync 'raw'$/);
    }
  });

  it('quotes a root with spaces, quotes and % for the shell and for sbatch', () => {
    const p = pair({ shards: 2 });
    const s = sbatchScript(manifest([p], "/my lab/it's 100%"), p, env);
    expect(directives(s.text)).toContain(`#SBATCH --output="/my lab/it's 100%%/.labsync/logs/slurm/raw-%A_%a.log"`);
    expect(s.text).toContain(`cd '/my lab/it'\\''s 100%' || exit 2`);
  });

  it('only pairs with a schedule get a script', () => {
    expect(sbatchScripts(manifest([pair({ name: 'a' }), pair({ name: 'b', schedule: undefined })]), env).map((s) => s.pair)).toEqual(['a']);
  });
});

describe('slurmTime', () => {
  it('rounds up to the minute, days as D-', () => {
    expect(slurmTime(1)).toBe('00:01:00');
    expect(slurmTime(90_000)).toBe('00:02:00');
    expect(slurmTime(3600_000)).toBe('01:00:00');
    expect(slurmTime(26 * 3600_000 + 60_000)).toBe('1-02:01:00');
  });
});
