// Cross-field rules. What a tool can do is read from its adapter's capabilities, said once there.
import { adapterFor, adapters } from '../adapters/index.js';
import type { ManifestIssue } from '../errors.js';
import { CATEGORIES, type Category } from '../types.js';
import { cronProblem } from '../util/cron.js';
import { resolveRemote, toolFor } from './resolve.js';
import type { RawManifest, RawPair } from './schema.js';
import { issueAt } from './issues.js';
import type { ParsedYaml } from './yaml-doc.js';

function pairRules(parsed: ParsedYaml, m: RawManifest, category: Category, index: number, pair: RawPair): ManifestIssue[] {
  const out: ManifestIssue[] = [];
  const at = (key: string, message: string): void => void out.push(issueAt(parsed, [category, index, key], message));
  const defaults = m.defaults ?? {};
  const endpoint = resolveRemote(pair.remote, m.remotes ?? {}, '/', pair.tool ?? (category === 'code' ? 'git' : undefined));
  if (typeof endpoint === 'string') at('remote', endpoint);
  const tool = toolFor(pair, category, endpoint);
  if (!tool) return out;
  const adapter = adapterFor(tool);
  if (!adapter) {
    at(pair.tool ? 'tool' : 'remote', `tool ${tool} is not available in this version of labsync yet (available: ${Object.keys(adapters).join(', ')})`);
    return out;
  }
  const caps = adapter.capabilities;
  const mode = pair.mode ?? 'push';
  if (!caps.directions.includes(mode)) at('mode', `mode ${mode} is not supported by ${tool} (supported: ${caps.directions.join(', ')})`);
  if (typeof endpoint !== 'string' && !caps.remoteTypes.includes(endpoint.type)) {
    at('remote', `${tool} cannot reach a ${endpoint.type} remote (it reaches: ${caps.remoteTypes.join(', ')})`);
  }
  // Safety options count wherever they come from: a backup silently not taken loses files.
  if ((pair.delete ?? defaults.delete) && !caps.delete) at('delete', `delete is not supported by ${tool}`);
  if ((pair.backup ?? defaults.backup) && !caps.backup) at('backup', `backup is not supported by ${tool}`);
  // Tuning options from defaults apply only where the tool has them.
  if (pair.bwlimit !== undefined && !caps.bwlimit) at('bwlimit', `bwlimit is not supported by ${tool}`);
  if (pair.transfers !== undefined && !caps.transfers) at('transfers', `transfers is not supported by ${tool}`);
  const verify = pair.verify ?? defaults.verify;
  if (verify && verify !== 'none' && !caps.verify.includes(verify) && pair.verify) {
    at('verify', `verify: ${verify} is not supported by ${tool} (supported: ${[...caps.verify, 'none'].join(', ')})`);
  }
  if (pair.schedule) {
    const problem = cronProblem(pair.schedule);
    if (problem) at('schedule', problem);
  }
  const md = pair.max_delete;
  if (typeof md === 'string' && md.endsWith('%') && Number(md.slice(0, -1)) > 100) at('max_delete', 'a percentage cannot exceed 100%');
  return out;
}

export function checkRules(parsed: ParsedYaml, m: RawManifest): ManifestIssue[] {
  const out: ManifestIssue[] = [];
  const seen = new Map<string, string>();
  for (const category of CATEGORIES) {
    for (const [index, pair] of (m[category] ?? []).entries()) {
      const first = seen.get(pair.name);
      if (first) out.push(issueAt(parsed, [category, index, 'name'], `name '${pair.name}' is already used by ${first}; names are unique across code, data and models`));
      else seen.set(pair.name, `${category}.${pair.name}`);
      out.push(...pairRules(parsed, m, category, index, pair));
    }
  }
  const md = m.defaults?.max_delete;
  if (typeof md === 'string' && md.endsWith('%') && Number(md.slice(0, -1)) > 100) {
    out.push(issueAt(parsed, ['defaults', 'max_delete'], 'a percentage cannot exceed 100%'));
  }
  return out;
}
