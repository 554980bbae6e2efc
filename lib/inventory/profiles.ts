/**
 * Profiles: named sets of the option table's test keys, in the inventory as [profiles.NAME], one
 * able to `extends` another, chosen with --profile (several in one run) or [test] profile. A few
 * are built in; an inventory's own of the same name stands in for the built-in one.
 */
import { closest } from '../shared/did-you-mean.js';
import { OPTION_LIST, OptionKey, readValue } from '../shared/options.js';
import type { TestParams } from '../shared/options.js';

/** A profile as written: option keys (raw, as in [test]) and what it extends. */
export type RawProfile = Partial<Record<OptionKey, unknown>> & { extends?: string };

/** What users reach for first; docs/inventory.md describes each. */
export const BUILTIN_PROFILES: Record<string, RawProfile> = {
  /** One TCP stream per pair: what one connection of an application gets. */
  'tcp-single': { parallel: 1, processes: 1 },
  /** Eight streams per process: what the link carries when it is filled. */
  'tcp-multi': { parallel: 8 },
  /** UDP as fast as iperf3 sends (paced at 100 Gbit/s, more than one process sends): loss and jitter at line rate. */
  'udp-line': { protocol: 'udp', bitrate: '100G' },
  /** The other direction: each server sends (iperf3 -R), through the same connections. */
  reverse: { reverse: true },
};

const OPTION_KEYS = new Set<string>(OPTION_LIST.map(([k]) => k));

/**
 * The options of profile `name` with those of every profile it extends under them, read as
 * [test] reads its values; or the problems, naming the profile and the fix.
 */
export function resolveProfile(name: string, own: Record<string, RawProfile> = {}, where = '--profile'): Partial<TestParams> | string {
  const known = { ...BUILTIN_PROFILES, ...own };
  const chain: string[] = [];
  for (let at: string | undefined = name; at !== undefined; at = known[at]!.extends) {
    if (chain.includes(at)) return `profiles.${chain[chain.length - 1]}.extends: "${at}" makes a cycle (${[...chain, at].join(' → ')}); a profile cannot extend itself, even through others`;
    if (!(at in known)) {
      const near = closest(at, Object.keys(known));
      const from = chain.length ? `profiles.${chain[chain.length - 1]}.extends` : where;
      return `${from}: no profile "${at}"${near ? `; did you mean "${near}"?` : ''} (the inventory defines ${Object.keys(own).join(', ') || 'none'}; built in: ${Object.keys(BUILTIN_PROFILES).join(', ')})`;
    }
    chain.push(at);
  }
  // The most basic first, so that each profile's own keys win over what it extends.
  const out: Record<string, unknown> = {};
  for (const p of chain.reverse()) {
    for (const [k, v] of Object.entries(known[p]!)) if (k !== 'extends' && OPTION_KEYS.has(k)) out[k] = readValue(k as OptionKey, v);
  }
  return out as Partial<TestParams>;
}
