import { opendir, stat } from 'node:fs/promises';

/** 'missing', 'not-a-folder', 'empty' or 'ok': checked before any tool runs. */
export async function localSourceState(path: string): Promise<'missing' | 'not-a-folder' | 'empty' | 'ok'> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return 'missing';
  if (!s.isDirectory()) return 'not-a-folder';
  const dir = await opendir(path);
  try {
    for await (const _ of dir) return 'ok';
    return 'empty';
  } finally {
    await dir.close().catch(() => undefined);
  }
}
