// The manifest the S3 tests start from: one data pair `raw` pushed to `store:raw` in a bucket of the
// test's S3 server (moto on 127.0.0.1), by `tool` (rclone or aws). As ssh-manifest.ts for ssh.
import { Lab } from './lab.js';
import { makeBucket, type S3Server } from './moto.js';

/** `tool` undefined: the pair names none (an s3 remote's default, aws); `pair`: more lines of the pair, each indented four spaces (`    delete: true\n`). */
export function s3PairManifest(server: S3Server, bucket: string, tool: string | undefined, pair = ''): string {
  return `version: 1
defaults:
  retries: 0
remotes:
  store: { type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}" }
data:
  - name: raw
${tool === undefined ? '' : `    tool: ${tool}\n`}    local: raw
    remote: store:raw
${pair}`;
}

/** A fresh lab with a bucket of its own and s3PairManifest's pair in it (`edit`: changes to the manifest's text). */
export async function s3Lab(server: S3Server, tool: string | undefined, pair = '', edit: (text: string) => string = (t) => t): Promise<{ lab: Lab; bucket: string }> {
  const lab = new Lab();
  const bucket = await makeBucket(server, lab.env);
  lab.manifest(edit(s3PairManifest(server, bucket, tool, pair)));
  return { lab, bucket };
}
