// A lab with one rclone bisync pair whose two sides start equal: small files (five, a to e, unless named).
import { utimesSync } from 'node:fs';
import { Lab } from './lab.js';

export function bisyncLab(extra = '', files: readonly string[] = ['a', 'b', 'c', 'd', 'e']): Lab {
  const lab = new Lab();
  lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: shared\n    tool: rclone\n    local: notes\n    remote: file://${lab.outside('other')}\n    mode: bisync\n${extra}`);
  // One mtime on both sides: rclone ≥ 1.66's --resync checks its result and aborts on equal files
  // whose mtimes differ by milliseconds (1.75.2, README: Two rclones).
  const when = new Date('2026-01-01T00:00:00Z');
  for (const f of files) {
    lab.write(lab.path('notes', f), f).write(lab.outside('other', f), f);
    utimesSync(lab.path('notes', f), when, when);
    utimesSync(lab.outside('other', f), when, when);
  }
  return lab;
}
