// The ssh cipher of an rsync pair's connections. OpenSSH puts chacha20-poly1305 first, the fastest
// cipher on a CPU without AES instructions; on one with them AES-GCM costs far less per byte (measured
// here, 500 MB through loopback ssh: ~0.3 s less user CPU at each end, a third of ssh's own). Go's ssh
// package (rclone's sftp) orders them the same way by the same test. The list is OpenSSH's default set
// reordered, so a host that refuses AES-GCM still agrees on the next one. Added after the user's own
// options (ssh keeps the first value: theirs win), and not at all when an ssh config in effect names
// `Ciphers` (a site's policy: the command line would override it). LABSYNC_SSH_CIPHER=0 leaves it to ssh.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { ResolvedPair } from '../types.js';

export const AES_FIRST = 'Ciphers=aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr';

/** Whether the CPU has AES instructions, from /proc/cpuinfo's flags (x86) or features (arm64). */
export function cpuHasAes(cpuinfo: string | undefined, platform: string = process.platform, arch: string = process.arch): boolean {
  if (platform === 'darwin') return arch === 'arm64';
  return cpuinfo !== undefined && /^(flags|features)\s*:.*\baes\b/im.test(cpuinfo);
}


/** The files an `Include` line names: absolute, or relative to `base` (~/.ssh or /etc/ssh); `*` in the last part. */
function included(text: string, base: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*include\s*[=\s]\s*(.+)$/gim)) {
    for (const word of (m[1] as string).trim().split(/\s+/)) {
      const path = word.startsWith('~/') ? join(homedir(), word.slice(2)) : isAbsolute(word) ? word : join(base, word);
      const name = path.slice(dirname(path).length + 1);
      if (!name.includes('*') && !name.includes('?')) {
        out.push(path);
        continue;
      }
      const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
      try {
        for (const f of readdirSync(dirname(path)).sort()) if (re.test(f)) out.push(join(dirname(path), f));
      } catch {
        // a folder that is not there includes nothing
      }
    }
  }
  return out;
}

/** Whether any of `files` (or what they include, three deep) sets Ciphers. An unreadable file is taken as setting it. */
export const configNamesCiphers = (files: readonly { path: string; base: string }[], depth = 3): boolean => configNames(files, /^\s*ciphers\b/im, depth);

/** Config files' texts, read once per process: the cipher and the kept connection (ssh-keep.ts) scan the same files each run. */
const texts = new Map<string, string | null | undefined>();

/** A config file's text; undefined where it does not exist, null where it cannot be read. */
function configText(path: string): string | null | undefined {
  if (texts.has(path)) return texts.get(path);
  let text: string | null | undefined;
  try {
    text = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  } catch {
    text = null;
  }
  texts.set(path, text);
  return text;
}

/** Whether any of `files` (or what they include, three deep) has a line `keyword` matches. An unreadable file is taken as having one. */
export function configNames(files: readonly { path: string; base: string }[], keyword: RegExp, depth = 3): boolean {
  for (const { path, base } of files) {
    const text = configText(path);
    if (text === undefined) continue;
    if (text === null) return true; // not known: leave the choice to ssh
    if (keyword.test(text)) return true;
    if (depth > 0 && configNames(included(text, base).map((p) => ({ path: p, base })), keyword, depth - 1)) return true;
  }
  return false;
}

let aes: boolean | undefined;
const configs = new Map<string, boolean>();

/** The pair with AES-GCM first among its ssh ciphers, where that is labsync's to choose (see above); else the pair itself. */
export function withFastCipher(pair: ResolvedPair): ResolvedPair {
  const remote = pair.remote;
  if (remote.type !== 'ssh' || pair.tool !== 'rsync' || process.env.LABSYNC_SSH_CIPHER === '0') return pair;
  if (remote.sshOptions.some((o) => /^\s*ciphers\b/i.test(o))) return pair;
  if (aes === undefined) {
    let cpuinfo: string | undefined;
    try {
      cpuinfo = process.platform === 'linux' ? readFileSync('/proc/cpuinfo', 'utf8') : undefined;
    } catch {
      cpuinfo = undefined;
    }
    aes = cpuHasAes(cpuinfo);
  }
  if (!aes) return pair;
  const key = remote.sshConfig ?? '';
  let named = configs.get(key);
  if (named === undefined) {
    named = configNamesCiphers(sshConfigFiles(remote.sshConfig));
    configs.set(key, named);
  }
  return named ? pair : { ...pair, remote: { ...remote, sshOptions: [...remote.sshOptions, AES_FIRST] } };
}

/** The ssh config files in effect for a remote: -F replaces both the user's and the system's file, as ssh reads them. */
export function sshConfigFiles(sshConfig: string | undefined): { path: string; base: string }[] {
  return sshConfig
    ? [{ path: sshConfig, base: join(homedir(), '.ssh') }]
    : [{ path: join(homedir(), '.ssh', 'config'), base: join(homedir(), '.ssh') }, { path: '/etc/ssh/ssh_config', base: '/etc/ssh' }];
}
