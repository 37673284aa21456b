// watch's folder questions (src/commands/folder-asker.ts, folder-places.ts) against a folder that never
// answers (a FUSE mount whose daemon never replies, harness/dead-fuse.ts), asked in this process as watch
// does where its helper cannot run (the helper's file is not beside the sources). Review 62: each question
// asked again had taken one more of the process's four file-access threads (three per dead folder), and a
// link re-pointed off the dead mount after the third was never followed.
import { mkdirSync, renameSync, symlinkSync } from 'node:fs';
import { expect, it } from 'vitest';
import { FolderAsker, type Place } from '../src/commands/folder-asker.js';
import { canMountFuse, deadFolder } from './harness/dead-fuse.js';
import { Lab } from './harness/lab.js';

const settled = <T>(p: Promise<T>, ms: number): Promise<T | 'not yet'> => Promise.race([p, new Promise<'not yet'>((r) => setTimeout(() => r('not yet'), ms))]);

// Skipped where no FUSE file system can be mounted (not root, or no /dev/fuse in the container).
it.skipIf(!canMountFuse)('two pair folders that do not answer, their questions sent again many times, hold two threads, not one per question: a healthy folder is still answered, and a link re-pointed off the dead mount, behind another link, answers the question already out', async () => {
  const lab = new Lab();
  const dead = await deadFolder(lab.outside('dead'));
  const asker = new FolderAsker(() => undefined, 100);
  try {
    mkdirSync(lab.outside('real/d1'), { recursive: true });
    mkdirSync(lab.path('raw'), { recursive: true });
    // d1's link lies behind another (a cluster's /home -> /gpfs/home): the one that moves is not the first on the path (review 64).
    mkdirSync(lab.outside('gpfs'), { recursive: true });
    symlinkSync(lab.outside('gpfs'), lab.path('home'));
    symlinkSync(lab.outside('dead/d1'), lab.path('home/d1'));
    symlinkSync(lab.outside('dead/d2'), lab.path('d2'));
    const first = asker.ask({ local: lab.path('home/d1'), tool: 'rsync' });
    void asker.ask({ local: lab.path('d2'), tool: 'rsync' }).catch(() => undefined);
    // Sent again every 100 ms: twenty times each.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await settled(first, 0)).toBe('not yet');
    // One thread per dead folder: two of four are left, so a folder that answers is answered.
    const raw = await settled(asker.ask({ local: lab.path('raw'), tool: 'rsync' }), 5000);
    expect((raw as Place).top).toBe(lab.path('raw'));
    symlinkSync(lab.outside('real/d1'), lab.path('home/d1.new'));
    renameSync(lab.path('home/d1.new'), lab.path('home/d1'));
    const moved = await settled(first, 5000);
    expect((moved as Place).top).toBe(lab.outside('real/d1'));
    expect((moved as Place).id).toBeDefined();
    // Asked again once it answers: the next question is answered too (an older walk still stuck on the dead mount holds none up).
    expect(((await settled(asker.ask({ local: lab.path('home/d1'), tool: 'rsync' }), 5000)) as Place).top).toBe(lab.outside('real/d1'));
  } finally {
    asker.close();
    await dead.revive();
  }
}, 60_000);
