// A Hugging Face Hub on 127.0.0.1 for the hf adapter's tests (TESTBED-models.md): olah 0.5.4 serves
// local git+LFS repos to the real `hf` client (reads), and hub-standin.ts takes the writes and passes
// everything else to olah. The client only ever sees the stand-in's address.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exited, killExact } from './processes.js';
import { freePort } from './sshd.js';
import { startStandIn, type StandIn } from './hub-standin.js';
import { afterAll, beforeAll, expect } from 'vitest';
import { which } from '../../src/exec/which.js';
import { Lab } from './lab.js';
import { TOOLS_BIN, withTools } from './tools.js';

export interface Hub {
  readonly endpoint: string;
  readonly mirrors: string;
  readonly standIn: StandIn;
  readonly olah: { readonly pid: number; readonly port: number };
}

/** A planted token: the tests check it appears nowhere. The stand-in accepts any. */
export const HF_TEST_TOKEN = 'hf_labsyncPlantedTokenValue0123456789';

/** The client's environment against this hub (TESTBED-models.md): no Xet, no telemetry or update check, HF_HOME in the lab. */
export function hfEnv(hub: Hub, home: string): Record<string, string> {
  return {
    HF_ENDPOINT: hub.endpoint, HF_TOKEN: HF_TEST_TOKEN, HF_HOME: join(home, 'hf-home'),
    HF_HUB_DISABLE_XET: '1', HF_HUB_DISABLE_UPDATE_CHECK: '1', HF_HUB_DISABLE_TELEMETRY: '1', HF_HUB_DISABLE_PROGRESS_BARS: '1',
  };
}

async function ready(url: string): Promise<boolean> {
  try {
    // Any answer means it is up (it answers whoami with 504: offline, no upstream).
    return (await fetch(url)).status > 0;
  } catch {
    return false;
  }
}

export async function startHub(dir: string): Promise<Hub> {
  const mirrors = join(dir, 'mirrors');
  mkdirSync(join(mirrors, 'models'), { recursive: true });
  const [olahPort, port] = [await freePort(), await freePort()];
  // Offline, an upstream nobody answers on, no metadata cache: olah never leaves loopback and sees every new commit.
  const config = join(dir, 'olah.toml');
  writeFileSync(config, `[basic]
host = "127.0.0.1"
port = ${olahPort}
repos-path = "${join(dir, 'olah-cache')}"
mirrors-path = ["${mirrors}"]
hf-scheme = "http"
hf-netloc = "127.0.0.1:9"
hf-lfs-netloc = "127.0.0.1:9"
mirror-scheme = "http"
mirror-netloc = "127.0.0.1:${port}"
mirror-lfs-netloc = "127.0.0.1:${port}"
metadata-cache-ttl = 0

[accessibility]
offline = true
`);
  const log = openSync(join(dir, `olah-${olahPort}.log`), 'a');
  const child = spawn(join(TOOLS_BIN, 'olah-cli'), ['-c', config], { cwd: dir, stdio: ['ignore', log, log], detached: true, env: { ...process.env, HF_HUB_DISABLE_TELEMETRY: '1' } });
  child.unref();
  const olah = { pid: child.pid as number, port: olahPort };
  for (let i = 0; i < 200 && !(await ready(`http://127.0.0.1:${olahPort}/api/whoami-v2`)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await ready(`http://127.0.0.1:${olahPort}/api/whoami-v2`))) {
    killExact(olah.pid, config);
    throw new Error(`olah did not start (log: ${dir})`);
  }
  const standIn = await startStandIn(mirrors, port, olahPort);
  return { endpoint: `http://127.0.0.1:${port}`, mirrors, standIn, olah };
}

export async function stopHub(hub: Hub): Promise<void> {
  killExact(hub.olah.pid, 'olah');
  hub.standIn.server.closeAllConnections();
  await new Promise((r) => hub.standIn.server.close(r));
  // Gone, not just signalled, before the test's folder (olah's cache) goes.
  await exited(hub.olah.pid, 'olah');
}

/** Why the Hub's tests cannot run here, if they cannot (scripts/ensure-tools.sh test installs both). */
export async function hubMissing(): Promise<string | undefined> {
  for (const tool of ['hf', 'olah-cli']) if (!(await which(tool, withTools(process.env.PATH)))) return `${tool} is not installed`;
  return undefined;
}

/** One Hub for the tests of the describe block this is called in: started before them, stopped after. */
export function useHub(): Hub {
  let hub: Hub | undefined;
  const scratch = new Lab('labsync-hub-');
  beforeAll(async () => {
    hub = await startHub(scratch.outside('hub'));
  });
  afterAll(async () => {
    if (hub) await stopHub(hub);
  });
  const started = (): Hub => {
    if (!hub) throw new Error('the Hub is read before it started (outside a test)');
    return hub;
  };
  return { get endpoint() { return started().endpoint; }, get mirrors() { return started().mirrors; }, get standIn() { return started().standIn; }, get olah() { return started().olah; } };
}

/**
 * Runs `push` (a push with `stall_timeout: 3s`) against a Hub that takes uploads and never answers:
 * the stall watchdog must stop it, exit 1, saying so. The Hub answers again afterwards.
 */
export async function pushStallsOnSilentHub(hub: Hub, push: () => Promise<{ exitCode: number; stdout: string }>): Promise<void> {
  hub.standIn.silentUploads(true);
  try {
    const r = await push();
    expect(r.exitCode, r.stdout).toBe(1);
    const doc = JSON.parse(r.stdout) as { pairs: { status: string; error: string | null }[] };
    expect(doc.pairs[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/no progress for 3s/) });
  } finally {
    hub.standIn.silentUploads(false);
  }
}
