import { describe, expect, it } from 'vitest';
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
});
