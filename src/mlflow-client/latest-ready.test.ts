// The newest version a push compares with and a pull reads is a READY one. An OSS `mlflow server`
// registers every version READY at once, so no real server here can answer otherwise: a loopback
// stand-in answers model-versions/search with the statuses an asynchronous registry gives.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { latestVersion } from './registry.js';
import { serverOf } from './rest.js';

let http: HttpServer | undefined;
afterEach(() => new Promise<void>((done) => (http ? http.close(() => done()) : done())));

async function answering(versions: readonly { version: string; status?: string }[]): Promise<string> {
  http = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url?.includes('model-versions/search') ? { model_versions: versions } : {}));
  });
  await new Promise<void>((up) => http?.listen(0, '127.0.0.1', up));
  return `http://127.0.0.1:${(http?.address() as AddressInfo).port}`;
}

describe('latestVersion against a stand-in registry (statuses an OSS server never gives)', () => {
  it('skips versions pending or failed registration; versions without a status count (older servers)', async () => {
    const uri = await answering([{ version: '1', status: 'READY' }, { version: '2' }, { version: '3', status: 'FAILED_REGISTRATION' }, { version: '4', status: 'PENDING_REGISTRATION' }]);
    expect((await latestVersion(serverOf(uri, {}), 'm'))?.version).toBe(2);
  });
  it('none ready: no newest version', async () => {
    const uri = await answering([{ version: '1', status: 'PENDING_REGISTRATION' }]);
    expect(await latestVersion(serverOf(uri, {}), 'm')).toBeUndefined();
  });
});
