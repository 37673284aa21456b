import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadManifestText } from '../manifest/load.js';
import type { ResolvedPair } from '../types.js';
import { fullCheckDue, fullCheckFile, recordFullCheck } from './full-check.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

const DAY = 86_400_000;
const MANIFEST = `version: 1
defaults:
  full_check: 30d
code:
  - name: repo
    local: .
    remote: "/srv/origin.git"
    branch: main
  - name: tools
    local: tools
    remote: "/srv/tools.git"
    branch: main
    full_check: 7d
data:
  - name: raw
    local: raw
    remote: "file:///srv/nas/raw"
    full_check: 7d
  - name: s3
    tool: aws
    local: s3
    remote: "s3://b/p"
`;

function pairs(): Map<string, ResolvedPair> {
  const root = mkdtempSync(join(tmpdir(), 'labsync-full-check-'));
  made.push(root);
  const m = loadManifestText(MANIFEST, join(root, 'labsync.yaml'), {}, root);
  return new Map(m.pairs.map((p) => [p.name, p]));
}

describe('full_check', () => {
  it('applies from defaults only where a pair can re-read its bytes; set on a git pair it is kept (validate warns) but never due', () => {
    const p = pairs();
    expect(p.get('repo')?.fullCheckMs).toBeUndefined();
    expect(p.get('s3')?.fullCheckMs).toBe(30 * DAY);
    expect(p.get('raw')?.fullCheckMs).toBe(7 * DAY);
    expect(p.get('tools')?.fullCheckMs).toBe(7 * DAY);
    expect(fullCheckDue(p.get('tools') as ResolvedPair, false)).toBe(false);
    // Asked for (check --full): always.
    expect(fullCheckDue(p.get('tools') as ResolvedPair, true)).toBe(true);
  });

  it('is due with no record, not within the duration of the last one, due again past it', async () => {
    const raw = pairs().get('raw') as ResolvedPair;
    const now = Date.now();
    expect(fullCheckDue(raw, false, now)).toBe(true);
    const warnings: string[] = [];
    await recordFullCheck(raw, (m) => void warnings.push(m), now - 7 * DAY + 1000);
    expect(warnings).toEqual([]);
    expect(fullCheckDue(raw, false, now)).toBe(false);
    expect(fullCheckDue(raw, false, now + 1000)).toBe(true);
    expect(fullCheckDue({ ...raw, fullCheckMs: undefined } as ResolvedPair, false, now + 30 * DAY)).toBe(false);
  });

  it('a record written before records named their ends counts as the pair\'s (an upgrade re-reads nothing); one of other ends does not', () => {
    const raw = pairs().get('raw') as ResolvedPair;
    mkdirSync(join(raw.root, '.labsync', 'cache'), { recursive: true });
    writeFileSync(fullCheckFile(raw), JSON.stringify({ at: Date.now() - DAY }));
    expect(fullCheckDue(raw, false)).toBe(false);
    writeFileSync(fullCheckFile(raw), JSON.stringify({ at: Date.now() - DAY, of: 'another folder\0another remote' }));
    expect(fullCheckDue(raw, false)).toBe(true);
  });

  it('a damaged record is no record: due (read everything rather than trust it)', () => {
    const raw = pairs().get('raw') as ResolvedPair;
    mkdirSync(join(raw.root, '.labsync', 'cache'), { recursive: true });
    writeFileSync(fullCheckFile(raw), '{"at": "yesterday"');
    expect(fullCheckDue(raw, false)).toBe(true);
  });

  it('a record that cannot be written is said, and the check stays due', async () => {
    const raw = pairs().get('raw') as ResolvedPair;
    // The cache folder's place taken by a file: nothing can be written under it.
    mkdirSync(join(raw.root, '.labsync'), { recursive: true });
    writeFileSync(join(raw.root, '.labsync', 'cache'), 'not a folder');
    const warnings: string[] = [];
    await recordFullCheck(raw, (m) => void warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(join(raw.root, '.labsync', 'cache'));
    expect(fullCheckDue(raw, false)).toBe(true);
  });
});
