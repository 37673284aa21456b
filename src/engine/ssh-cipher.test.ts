import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../types.js';
import { AES_FIRST, cpuHasAes, withFastCipher } from './ssh-cipher.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

const dir = (): string => tempDir('cipher-');

function sshPair(sshOptions: string[], sshConfig?: string, tool: ResolvedPair['tool'] = 'rsync'): ResolvedPair {
  return { name: 'raw', tool, remote: { type: 'ssh', host: 'gpu', path: '/data', sshOptions, ...(sshConfig ? { sshConfig } : {}) } } as unknown as ResolvedPair;
}

describe('which CPU has AES instructions', () => {
  it('reads x86 flags and arm64 features; anything else, or no cpuinfo, is no', () => {
    expect(cpuHasAes('processor\t: 0\nflags\t\t: fpu vme sse2 aes avx sha_ni\n', 'linux')).toBe(true);
    expect(cpuHasAes('processor\t: 0\nFeatures\t: fp asimd aes pmull sha1\n', 'linux')).toBe(true);
    expect(cpuHasAes('processor\t: 0\nflags\t\t: fpu vme sse2 avx aesx\n', 'linux')).toBe(false);
    expect(cpuHasAes('model name : AES-less\nflags : fpu\n', 'linux')).toBe(false);
    expect(cpuHasAes(undefined, 'linux')).toBe(false);
    expect(cpuHasAes(undefined, 'darwin', 'arm64')).toBe(true);
    expect(cpuHasAes(undefined, 'darwin', 'x64')).toBe(false);
  });
});

describe('the cipher of an rsync pair over ssh', () => {
  afterEach(() => {
    delete process.env.LABSYNC_SSH_CIPHER;
  });
  // These run where the CPU has AES (any x86-64 or arm64 server of the last decade); elsewhere the pair is left as it is.
  const aes = cpuHasAes(safeCpuinfo());

  it('puts AES-GCM first, after the user\'s own options, with an ssh config that leaves the cipher to ssh', () => {
    const d = dir();
    writeFileSync(join(d, 'cfg'), 'Host *\n  ServerAliveInterval 30\n');
    const pair = sshPair(['Compression=no'], join(d, 'cfg'));
    const got = withFastCipher(pair);
    if (!aes) return void expect(got).toBe(pair);
    expect(got.remote).toMatchObject({ sshOptions: ['Compression=no', AES_FIRST] });
    expect(pair.remote).toMatchObject({ sshOptions: ['Compression=no'] }); // the pair given is not changed
  });

  it('leaves the cipher alone: the user chose one (options or config), LABSYNC_SSH_CIPHER=0, another tool, a local remote', () => {
    const d = dir();
    writeFileSync(join(d, 'cfg'), 'Host gpu\n  Ciphers chacha20-poly1305@openssh.com\n');
    writeFileSync(join(d, 'plain'), 'Host *\n');
    const theirs = sshPair(['ciphers=aes256-ctr']);
    expect(withFastCipher(theirs)).toBe(theirs);
    const configured = sshPair([], join(d, 'cfg'));
    expect(withFastCipher(configured)).toBe(configured);
    process.env.LABSYNC_SSH_CIPHER = '0';
    const off = sshPair([], join(d, 'plain'));
    expect(withFastCipher(off)).toBe(off);
    delete process.env.LABSYNC_SSH_CIPHER;
    const rclone = sshPair([], join(d, 'plain'), 'rclone');
    expect(withFastCipher(rclone)).toBe(rclone);
    const local = { name: 'raw', tool: 'rsync', remote: { type: 'local', path: '/x' } } as unknown as ResolvedPair;
    expect(withFastCipher(local)).toBe(local);
  });
});

function safeCpuinfo(): string | undefined {
  try {
    return process.platform === 'linux' ? readFileSync('/proc/cpuinfo', 'utf8') : undefined;
  } catch {
    return undefined;
  }
}
