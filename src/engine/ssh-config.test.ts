import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSays, keywordsIn, scanConfig } from './ssh-config.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();
const dir = (): string => tempDir('ssh-config-');

/** Whether `files` set Ciphers, as withFastCipher asks it (a file that cannot be read: yes). */
const namesCiphers = (files: { path: string; base: string }[], depth?: number): boolean => {
  const k = keywordsIn(files, depth);
  return k === 'unknown' || k.has('ciphers');
};

describe('an ssh config that decides the cipher itself', () => {
  it('names Ciphers in the file, or in one it includes (a glob, relative to its folder, three deep)', () => {
    const d = dir();
    mkdirSync(join(d, 'conf.d'));
    mkdirSync(join(d, 'policies'));
    writeFileSync(join(d, 'plain'), 'Host *\n  ServerAliveInterval 30\n  # Ciphers aes128-ctr (a comment)\n');
    writeFileSync(join(d, 'direct'), 'Host gpu\n\tciphers=aes256-gcm@openssh.com\n');
    writeFileSync(join(d, 'top'), 'Include conf.d/*.conf\n');
    writeFileSync(join(d, 'conf.d', '10-site.conf'), 'Include policies/openssh.config\n');
    writeFileSync(join(d, 'conf.d', 'other.txt'), 'Ciphers aes128-ctr\n'); // not matched by *.conf
    writeFileSync(join(d, 'policies', 'openssh.config'), 'Ciphers aes256-gcm@openssh.com,aes256-ctr\n');
    writeFileSync(join(d, 'top-miss'), 'Include conf.d/*.txtx nothing-here\n');
    expect(namesCiphers([{ path: join(d, 'plain'), base: d }])).toBe(false);
    expect(namesCiphers([{ path: join(d, 'direct'), base: d }])).toBe(true);
    expect(namesCiphers([{ path: join(d, 'top'), base: d }])).toBe(true);
    expect(namesCiphers([{ path: join(d, 'top'), base: d }], 1)).toBe(false); // the policy file is two deep
    expect(namesCiphers([{ path: join(d, 'top-miss'), base: d }, { path: join(d, 'absent'), base: d }])).toBe(false);
  });

  it('an Include with a glob in a folder part (~/.ssh/*/config), as ssh expands it; dotfiles (an editor\'s swap file) are not matched', () => {
    const d = dir();
    mkdirSync(join(d, 'hosts', 'gpu'), { recursive: true });
    writeFileSync(join(d, 'hosts', 'gpu', 'config'), 'Ciphers aes256-ctr\n');
    writeFileSync(join(d, 'top'), 'Include hosts/*/config\n');
    expect(namesCiphers([{ path: join(d, 'top'), base: d }])).toBe(true);
    const before = scanConfig([{ path: join(d, 'top'), base: d }]).digest;
    writeFileSync(join(d, 'hosts', 'gpu', '.config.swp'), 'junk');
    mkdirSync(join(d, 'hosts', '.cache'));
    writeFileSync(join(d, 'hosts', '.cache', 'config'), 'Ciphers none\n');
    expect(scanConfig([{ path: join(d, 'top'), base: d }]).digest).toBe(before);
  });

  it('a file that cannot be read (here a folder), even one included: every keyword is taken as set, leaving the choice to ssh', () => {
    const d = dir();
    mkdirSync(join(d, 'unreadable'));
    writeFileSync(join(d, 'top'), `Host *\n  ServerAliveInterval 30\nInclude ${join(d, 'unreadable')}\n`);
    expect(keywordsIn([{ path: join(d, 'top'), base: d }])).toBe('unknown');
    expect(configSays(join(d, 'top'), 'Ciphers')).toBe(true);
    expect(configSays(join(d, 'top'), 'ControlPath')).toBe(true);
  });
});

describe('the ssh config in effect', () => {
  it('is scanned once per config and process: the kept connection\'s question (ssh-keep.ts) is answered by the scan the cipher\'s made', () => {
    const d = dir();
    const f = join(d, 'once');
    writeFileSync(f, 'Host *\n  ServerAliveInterval 30\n');
    expect(configSays(f, 'ciphers')).toBe(false);
    writeFileSync(f, 'Host *\n  ControlMaster auto\n');
    expect(configSays(f, 'ControlMaster')).toBe(false);
    // A config not scanned before is scanned now; keywords in any case.
    const g = join(d, 'fresh');
    writeFileSync(g, 'Host *\n  controlmaster=auto\n');
    expect(configSays(g, 'ControlMaster')).toBe(true);
    expect(configSays(g, 'Ciphers')).toBe(false);
    // A keyword is the line's whole first word, digits too; a comment names none.
    const h = join(d, 'words');
    writeFileSync(h, '# Ciphers aes128-ctr\nForwardX11 no\nControlPathX whatever\n');
    expect(configSays(h, 'ForwardX11')).toBe(true);
    expect(configSays(h, 'ForwardX')).toBe(false);
    expect(configSays(h, 'ControlPath')).toBe(false);
    expect(configSays(h, 'Ciphers')).toBe(false);
  });
});
