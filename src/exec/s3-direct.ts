// Pure: whether labsync can list an S3 remote itself, exactly where aws-cli would look, and with which
// keys. Anything it cannot be sure of (a profile, SSO, a role, a proxy, a CA bundle, an endpoint from
// the config file) leaves the listing to aws-cli, as before.
import type { Endpoint } from '../types.js';
import type { S3Credentials } from './sigv4.js';

type S3 = Extract<Endpoint, { type: 's3' }>;

export interface S3Target { readonly base: URL; readonly pathStyle: boolean; readonly bucket: string; readonly prefix: string; readonly region: string; readonly creds: S3Credentials }

const PROXIES = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'];

function bypassesProxy(host: string, env: Readonly<Record<string, string | undefined>>): boolean {
  const list = `${env.NO_PROXY ?? ''},${env.no_proxy ?? ''}`.split(',').map((s) => s.trim()).filter(Boolean);
  return list.some((h) => h === '*' || h === host || (h.startsWith('.') ? host.endsWith(h) : host.endsWith(`.${h}`)));
}

/** The `region` of a profile's section of the aws config file (`[default]`, `[profile NAME]`). */
export function profileRegion(configText: string, profile: string): string | undefined {
  // A comment may follow the header (`[profile dev] # note`), as botocore reads it.
  const header = profile === 'default' ? /^\s*\[\s*(default|profile\s+default)\s*\]/ : new RegExp(`^\\s*\\[\\s*profile\\s+${profile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\]`);
  let inside = false;
  for (const line of configText.split(/\r?\n/)) {
    if (/^\s*\[/.test(line)) inside = header.test(line);
    else if (inside) {
      const m = /^\s*region\s*=\s*(\S+)/.exec(line);
      if (m) return m[1];
    }
  }
  return undefined;
}

/**
 * The target of a direct listing, or why there is none. `configText` is the aws config file's
 * content (AWS_CONFIG_FILE, else ~/.aws/config), empty when there is none.
 */
export function directTarget(remote: S3, env: Readonly<Record<string, string | undefined>>, configText: string): S3Target | { reason: string } {
  if (remote.profile) return { reason: 'a profile names the credentials' };
  if (remote.instanceCredentials) return { reason: 'instance credentials' };
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return { reason: 'no keys in the environment' };
  if (!remote.endpoint && (env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3 || /^\s*endpoint_url\s*=/m.test(configText))) return { reason: 'an endpoint from the environment or config' };
  // Settings aws-cli would apply to the request that labsync would not (addressing style, CA bundle).
  if (/^\s*(ca_bundle|s3)\s*=/m.test(configText)) return { reason: 'S3 settings in the aws config file' };
  // FIPS and dual-stack endpoints: aws-cli builds other host names than labsync would.
  if (['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT'].some((k) => /^true$/i.test(env[k] ?? '')) || /^\s*use_(fips|dualstack)_endpoint\s*=/m.test(configText)) return { reason: 'FIPS or dual-stack endpoints' };
  // The region aws-cli signs for: v1 (botocore) reads AWS_DEFAULT_REGION only, v2 AWS_REGION first.
  // Both set and different: which one aws-cli takes depends on its version, left to it. An empty value is none.
  const fromEnv = env.AWS_DEFAULT_REGION || undefined;
  if (!remote.region && env.AWS_REGION && fromEnv && env.AWS_REGION !== fromEnv) return { reason: 'AWS_REGION and AWS_DEFAULT_REGION name different regions (aws-cli v1 and v2 take different ones)' };
  // AWS_REGION alone beside another region in the profile aws-cli reads: v1 takes the file's, v2 the variable.
  // The profile botocore (aws-cli v1) reads: AWS_DEFAULT_PROFILE before AWS_PROFILE (as aws-part-size.ts).
  const fileRegion = profileRegion(configText, env.AWS_DEFAULT_PROFILE || env.AWS_PROFILE || 'default');
  if (!remote.region && env.AWS_REGION && !fromEnv && fileRegion && fileRegion !== env.AWS_REGION) return { reason: 'AWS_REGION and another region in the aws config file (aws-cli v1 and v2 take different ones)' };
  // Without one from the manifest or the environment, aws-cli takes the region of the profile it reads
  // (what `aws configure` writes), else signs for us-east-1.
  const region = remote.region || fromEnv || env.AWS_REGION || fileRegion || undefined;
  if (!region && !remote.endpoint) return { reason: 'no region' };
  // On AWS itself the region becomes part of a host name: only a plain one, and only where S3's hosts
  // end in amazonaws.com (China's end in amazonaws.com.cn). With an endpoint it is only signed.
  if (region && /[\s/]/.test(region)) return { reason: `region '${region}' is no region name` };
  if (region && !remote.endpoint && !/^(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-[a-z]+-\d+$/.test(region)) return { reason: `region ${region} is outside the AWS partition labsync addresses` };
  // An access point or an Outposts ARN, or anything else a URL cannot carry as a bucket: aws-cli's.
  if (/[:/]/.test(remote.bucket)) return { reason: 'the bucket is an ARN' };
  let base: URL;
  try {
    base = new URL(remote.endpoint ?? `https://s3.${region}.amazonaws.com`);
  } catch {
    return { reason: `endpoint ${remote.endpoint} is not a URL` };
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return { reason: `endpoint ${remote.endpoint} is not http(s)` };
  if (base.protocol === 'https:' && env.AWS_CA_BUNDLE) return { reason: 'AWS_CA_BUNDLE' };
  if (PROXIES.some((p) => env[p]) && !bypassesProxy(base.hostname, env)) return { reason: 'a proxy' };
  // AWS itself: virtual-hosted names where the bucket allows (a DNS label: no dots, capitals or
  // underscores, which a host name would lose or refuse); a custom endpoint: path style, as aws-cli.
  const pathStyle = Boolean(remote.endpoint) || !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(remote.bucket);
  if (!pathStyle) base = new URL(`https://${remote.bucket}.s3.${region}.amazonaws.com`);
  const sessionToken = env.AWS_SESSION_TOKEN ?? env.AWS_SECURITY_TOKEN;
  return { base, pathStyle, bucket: remote.bucket, prefix: remote.prefix, region: region ?? 'us-east-1', creds: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } };
}
