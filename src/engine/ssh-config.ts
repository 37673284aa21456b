// What the ssh config in effect for a remote sets, as far as labsync must know: whether it names a
// keyword (Ciphers for ssh-cipher.ts, Control* for ssh-keep.ts), in the file itself or one it includes.
// One scan per config and process collects every keyword its files set, so both questions, asked at
// every run's start, read each file (and its Includes) once.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** The home ssh reads ~/.ssh from: the account's (getpwuid), not $HOME, which ssh ignores. */
export function sshHome(): string {
  try {
    return userInfo().homedir || homedir();
  } catch {
    return homedir();
  }
}

/** The ssh config files in effect for a remote: -F replaces both the user's and the system's file, as ssh reads them. */
export function sshConfigFiles(sshConfig: string | undefined): { path: string; base: string }[] {
  const dot = join(sshHome(), '.ssh');
  return sshConfig
    ? [{ path: sshConfig, base: dot }]
    : [{ path: join(dot, 'config'), base: dot }, { path: '/etc/ssh/ssh_config', base: '/etc/ssh' }];
}

/** The files an `Include` line names: absolute, or relative to `base` (~/.ssh or /etc/ssh); `*` and `?` in any part, as glob(3) reads them (no dotfiles). */
function included(text: string, base: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*include\s*[=\s]\s*(.+)$/gim)) {
    for (const word of (m[1] as string).trim().split(/\s+/)) {
      const path = word.startsWith('~/') ? join(sshHome(), word.slice(2)) : isAbsolute(word) ? word : join(base, word);
      out.push(...globbed(path));
    }
  }
  return out;
}

/** An absolute path with * and ? in any of its parts, expanded part by part in sorted order (glob(3)); a path without them as it is. */
function globbed(path: string): string[] {
  if (!/[*?]/.test(path)) return [path];
  let found = ['/'];
  for (const part of path.split('/').filter(Boolean)) {
    if (!/[*?]/.test(part)) {
      found = found.map((d) => join(d, part));
      continue;
    }
    const re = new RegExp(`^${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    found = found.flatMap((d) => {
      try {
        return readdirSync(d).sort().filter((f) => !f.startsWith('.') && re.test(f)).map((f) => join(d, f));
      } catch {
        return []; // a folder that is not there includes nothing
      }
    });
  }
  return found;
}

/** Keywords set (lower case), or 'unknown' where a file could not be read: then every question is answered yes, leaving the choice to ssh. */
export type ConfigKeywords = ReadonlySet<string> | 'unknown';

export interface ConfigScan {
  readonly keywords: ConfigKeywords;
  /** sha256 of every file read (its path and bytes, or that it is absent): any edit changes it. */
  readonly digest: string;
  /** The files UserKnownHostsFile and GlobalKnownHostsFile name there (~ expanded). */
  readonly knownHosts: readonly string[];
}

/** What `files` (and what they include, `depth` deep) set: each line's first word, their digest, the known_hosts files they name. */
export function scanConfig(files: readonly { path: string; base: string }[], depth = 16): ConfigScan {
  const found = new Set<string>();
  const knownHosts: string[] = [];
  const hash = createHash('sha256');
  const walk = (list: readonly { path: string; base: string }[], left: number): boolean => {
    for (const { path, base } of list) {
      let text: string;
      try {
        if (!existsSync(path)) {
          hash.update(`${path}\0absent\0`);
          continue;
        }
        text = readFileSync(path, 'utf8');
      } catch {
        return false;
      }
      hash.update(`${path}\0${text.length}\0`).update(text);
      // `Keyword value` or `Keyword=value`; a comment's `#` is no keyword.
      for (const m of text.matchAll(/^[ \t]*([A-Za-z][A-Za-z0-9]*)/gm)) found.add((m[1] as string).toLowerCase());
      for (const m of text.matchAll(/^[ \t]*(?:user|global)knownhostsfile[ \t]*[=\s][ \t]*(.+)$/gim)) knownHosts.push(...knownHostsWords(m[1] as string));
      if (left > 0 && !walk(included(text, base).map((p) => ({ path: p, base })), left - 1)) return false;
    }
    return true;
  };
  const ok = walk(files, depth);
  return { keywords: ok ? found : 'unknown', digest: hash.digest('hex'), knownHosts };
}

/** The files a UserKnownHostsFile or GlobalKnownHostsFile value names (~ expanded; "none" names none). */
export function knownHostsWords(value: string): string[] {
  return value.trim().split(/\s+/).filter((w) => w && w.toLowerCase() !== 'none').map((w) => w.replace(/^"|"$/g, '')).map((w) => (w.startsWith('~/') ? join(sshHome(), w.slice(2)) : w));
}

/** The keywords `files` (and what they include, `depth` deep) set: each line's first word. */
export function keywordsIn(files: readonly { path: string; base: string }[], depth = 16): ConfigKeywords {
  return scanConfig(files, depth).keywords;
}

const scanned = new Map<string, ConfigKeywords>();

/** Whether the ssh config in effect (`ssh_config:`, else the user's and the system's) sets `keyword` (any case). Scanned once per config and process. */
export function configSays(sshConfig: string | undefined, keyword: string): boolean {
  const key = sshConfig ?? '';
  let keywords = scanned.get(key);
  if (keywords === undefined) {
    keywords = keywordsIn(sshConfigFiles(sshConfig));
    scanned.set(key, keywords);
  }
  return keywords === 'unknown' || keywords.has(keyword.toLowerCase());
}
