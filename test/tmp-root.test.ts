// The run's temp root (harness/tmp-root.ts, each project's first globalSetup), driven here as vitest
// drives it: setup() once per project in one process, each handing back its teardown.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import setup from './harness/tmp-root.js';

const NAMES = ['TMPDIR', 'LABSYNC_TEST_TMP', 'LABSYNC_KEEP_TMP'] as const;
let saved: Partial<Record<(typeof NAMES)[number], string>> = {};
let base = '';

beforeEach(() => {
  saved = Object.fromEntries(NAMES.flatMap((n) => (process.env[n] === undefined ? [] : [[n, process.env[n]]])));
  // A folder of its own to stand for /tmp: what the setup makes in it is all there is in it.
  base = mkdtempSync(join(tmpdir(), 'tr-'));
  for (const n of NAMES) delete process.env[n];
  process.env.TMPDIR = base;
});
afterEach(() => {
  for (const n of NAMES) delete process.env[n];
  Object.assign(process.env, saved);
  rmSync(base, { recursive: true, force: true });
});

describe('the run\'s temp root', () => {
  it('is one folder for both projects, where TMPDIR points; the last teardown removes it and gives TMPDIR back', () => {
    const unitDone = setup();
    const root = process.env.TMPDIR ?? '';
    expect(readdirSync(base)).toEqual([root.slice(base.length + 1)]);
    expect(root).toMatch(/\/labsync-tests\.[^/]{6}$/);
    expect(tmpdir()).toBe(root);
    expect(process.env.LABSYNC_TEST_TMP).toBe(root);
    expect(statSync(root).mode & 0o777).toBe(0o755); // another user's script reads in it (ensure-tools.test.ts)
    const integrationDone = setup();
    expect(process.env.TMPDIR).toBe(root);
    expect(readdirSync(base)).toHaveLength(1);
    unitDone(); // the unit project may end first: the integration project's servers still live in it
    expect(existsSync(root)).toBe(true);
    integrationDone();
    expect(existsSync(root)).toBe(false);
    expect(process.env.TMPDIR).toBe(base);
    expect(process.env.LABSYNC_TEST_TMP).toBeUndefined();
    // The next run makes a new one.
    const again = setup();
    expect(process.env.TMPDIR).not.toBe(root);
    again();
    expect(readdirSync(base)).toEqual([]);
  });

  it('is npm test\'s folder when it made one (LABSYNC_TEST_TMP): used, and left to npm test', () => {
    const given = mkdtempSync(join(base, 'labsync-tests.'));
    process.env.LABSYNC_TEST_TMP = given;
    const done = setup();
    expect(process.env.TMPDIR).toBe(given);
    expect(readdirSync(base)).toEqual([given.slice(base.length + 1)]);
    done();
    expect(existsSync(given)).toBe(true);
  });

  it('is kept under LABSYNC_KEEP_TMP, and the run says where', () => {
    process.env.LABSYNC_KEEP_TMP = '1';
    const said = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const done = setup();
    const root = process.env.TMPDIR ?? '';
    done();
    const lines = said.mock.calls.map((c) => String(c[0]));
    said.mockRestore();
    expect(existsSync(root)).toBe(true);
    expect(lines.join('')).toContain(`temp files of this run kept in ${root}`);
  });
});
