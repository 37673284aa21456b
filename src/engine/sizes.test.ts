import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Adapter, ToolOutput } from '../adapters/types.js';
import { aws } from '../adapters/aws/index.js';
import { rsync } from '../adapters/rsync/index.js';
import { localBytes, toldStats } from './sizes.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

const out = (stdout: string): ToolOutput => ({ exitCode: 0, stdout, stderr: '', durationMs: 1, timedOut: false, aborted: false });

describe('toldStats', () => {
  it('sums what the tool says, bytes included', () => {
    const said = 'Number of regular files transferred: 2\nTotal transferred file size: 1,024 bytes\n';
    expect(toldStats(rsync, [out(said), out(said)])).toEqual({ files: 4, bytes: 2048 });
  });
  it('leaves bytes unsaid when a command that moved files did not say them (aws); quiet backup copies do not count', () => {
    expect(toldStats(aws, [out(''), out('upload: raw/a to s3://b/p/a\nupload: raw/b to s3://b/p/b\n')])).toEqual({ files: 2 });
    expect(toldStats(aws, [out('')])).toEqual({ files: 0, bytes: 0 });
  });
  it('a tool without stats says nothing', () => {
    expect(toldStats({ ...rsync, parseStats: undefined } as Adapter, [out('x')])).toEqual({ files: 0, bytes: 0 });
  });
});

describe('localBytes', () => {
  it('adds up the files\' sizes; a file gone since, or a folder, counts nothing', async () => {
    const dir = tempDir('labsync-sizes-');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a'), 'x'.repeat(10));
    writeFileSync(join(dir, 'sub/b c'), 'x'.repeat(32));
    const many = Array.from({ length: 100 }, () => 'a');
    expect(await localBytes(dir, ['a', 'sub/b c', 'gone', 'sub'])).toBe(42);
    expect(await localBytes(dir, many)).toBe(1000);
  });
});
