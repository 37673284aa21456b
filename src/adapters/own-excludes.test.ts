import { describe, expect, it } from 'vitest';
import { compileExcludes } from '../verify/glob.js';
import { ownExcludes } from './own-excludes.js';

describe('ownExcludes', () => {
  it("leaves out the backup folder and the remote lock always, labsync's folder only where the pair's tree holds the manifest's folder", () => {
    expect(ownExcludes({ root: '/lab', local: '/lab' })).toEqual(['/.labsync-backup/', '/.labsync-lock', '/.labsync/']);
    expect(ownExcludes({ root: '/lab/exp', local: '/lab' })).toEqual(['/.labsync-backup/', '/.labsync-lock', '/exp/.labsync/']);
    expect(ownExcludes({ root: '/lab', local: '/lab/data' })).toEqual(['/.labsync-backup/', '/.labsync-lock']);
    expect(ownExcludes({ root: '/lab', local: '/other' })).toEqual(['/.labsync-backup/', '/.labsync-lock']);
    expect(ownExcludes({ root: '/lab-2', local: '/lab' })).toEqual(['/.labsync-backup/', '/.labsync-lock']);
    expect(ownExcludes({ root: '/lab/..x', local: '/lab' })).toEqual(['/.labsync-backup/', '/.labsync-lock', '/..x/.labsync/']);
  });
  it('escapes a folder path holding * ? [ so the pattern names that folder (review 43: exp[1] matched exp1 only, and .labsync/ was pushed)', () => {
    const own = ownExcludes({ root: '/lab/exp[1]', local: '/lab' });
    expect(own.at(-1)).toBe('/exp\\[1]/.labsync/');
    const m = compileExcludes(own);
    expect(m.excludes('exp[1]/.labsync', true)).toBe(true);
    expect(m.excludes('exp1/.labsync', true)).toBe(false);
  });
});
