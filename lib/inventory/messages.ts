/**
 * Schema errors as a person needs them: the place ('hosts[1] ("h2").address'), what is wrong,
 * and what is allowed or what was probably meant. ajv's own messages name JSON pointers and
 * regular expressions, which is not something to act on.
 */
import type { ErrorObject } from 'ajv';
import { HOST_OPTIONS, OPTION_LIST, SWEEP_KEYS } from '../shared/options.js';
import { closest } from '../shared/did-you-mean.js';
import { THRESHOLD_KEYS } from '../results/verdict/thresholds.js';

const HINTS: Record<string, string> = {
  name: 'letters, digits and . _ - (up to 63, starting with a letter or digit)',
  address: 'an IP address or DNS name: letters, digits and . : % _ - (no spaces or shell characters; a link-local IPv6 address with its %zone)',
  ssh_host: 'an IP address, DNS name or OpenSSH config alias: letters, digits and . : % _ - [ ]',
  jump: 'jump hosts as ProxyJump writes them: [user@]host[:port], comma-separated',
  iperf3: 'an absolute path of letters, digits and . _ / + -',
  node: 'an absolute path of letters, digits and . _ / + -',
  user: 'a login name: lower-case letters, digits and _ . -',
  port_range: 'a range like "5201-5999"',
  cpus: 'a CPU list like "2-15" or "0,2,4-7"',
  congestion: 'a congestion control name such as "cubic" or "bbr"',
};

/** For the options that take a number or a word ("auto", "500M"): what is allowed, from the option table. */
const ONE_OF_HINTS: Record<string, string> = Object.fromEntries(
  OPTION_LIST.flatMap(([k, s]): [string, string][] => {
    if (s.kind === 'count') return [[k, `must be "auto" or a whole number from ${s.min} to ${s.max}`]];
    if (s.kind === 'rate') return [[k, 'must be bits per second per process: a number, or one with K, M or G (e.g. "500M")']];
    if (s.kind === 'size') return [[k, `must be bytes: a number of at least ${s.min}, or one with K, M or G (e.g. "256K")`]];
    return [];
  }),
);

/** Turn ajv's errors into lines a person can act on: place, what is wrong, what is allowed. */
export function describeErrors(errors: ErrorObject[], raw: unknown): string[] {
  const lines = new Set<string>();
  // A oneOf reports every branch's failure too; its own line (from ONE_OF_HINTS) says it better.
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  for (const e of errors) {
    if (e.keyword !== 'oneOf' && oneOfPaths.has(e.instancePath)) continue;
    const where = placeOf(e.instancePath, raw);
    const field = e.instancePath.split('/').pop() ?? '';
    switch (e.keyword) {
      case 'additionalProperties':
        lines.add(`${where ? where + ': ' : ''}unknown key "${e.params.additionalProperty}"${didYouMean(e.params.additionalProperty as string, e.instancePath)}`);
        break;
      case 'required':
        lines.add(`${where || 'top level'}: missing required key "${e.params.missingProperty}"`);
        break;
      case 'pattern':
        lines.add(`${where}: ${JSON.stringify(valueAt(raw, e.instancePath))} is not allowed; use ${HINTS[field] ?? 'a value matching ' + e.params.pattern}`);
        break;
      case 'oneOf':
        lines.add(`${where}: ${ONE_OF_HINTS[field] ?? 'is not allowed'}`);
        break;
      case 'enum':
        lines.add(`${where}: must be one of ${(e.params.allowedValues as string[]).map((v) => `"${v}"`).join(', ')}`);
        break;
      case 'minItems':
        lines.add(`${where}: needs at least ${e.params.limit} hosts for a mesh`);
        break;
      default:
        lines.add(`${where}: ${e.message}`);
    }
  }
  return [...lines];
}

/** "/hosts/1/address" -> 'hosts[1] ("h2").address'. */
function placeOf(pointer: string, raw: unknown): string {
  const parts = pointer.split('/').slice(1);
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (/^\d+$/.test(p)) {
      out += `[${p}]`;
      const name = (valueAt(raw, '/' + parts.slice(0, i + 1).join('/')) as { name?: unknown })?.name;
      if (parts[i - 1] === 'hosts' && typeof name === 'string') out += ` ("${name}")`;
    } else out += out ? `.${p}` : p;
  }
  return out;
}

function valueAt(raw: unknown, pointer: string): unknown {
  let v: unknown = raw;
  for (const p of pointer.split('/').slice(1)) v = (v as Record<string, unknown> | undefined)?.[p];
  return v;
}

const KEYS: Record<string, string[]> = {
  '': ['transport', 'ssh', 'runtime', 'discover', 'test', 'profiles', 'sweep', 'thresholds', 'hosts'],
  thresholds: [...THRESHOLD_KEYS],
  ssh: ['user', 'port', 'identity_file', 'known_hosts', 'connect_timeout', 'lost_after', 'concurrency', 'connect_attempts', 'accept_new_host_keys', 'config', 'jump'],
  runtime: ['node', 'iperf3', 'push_node', 'keep_runtime', 'linux-x64', 'linux-arm64'],
  test: [...OPTION_LIST.map(([k]) => k), 'profile', 'repeat'],
  profiles: [...OPTION_LIST.map(([k]) => k).filter((k) => k !== 'port_range'), 'extends'],
  sweep: [...SWEEP_KEYS],
  hosts: ['name', 'address', 'ssh_host', 'planes', 'jump', 'labels', 'iperf3', 'node', 'user', 'port', 'identity_file', 'known_hosts', 'cpus', 'max_processes', 'test'],
  'hosts.test': [...HOST_OPTIONS],
};

function didYouMean(key: string, pointer: string): string {
  const section = /^\/hosts\/\d+\/test/.test(pointer) ? 'hosts.test' : pointer.startsWith('/hosts') ? 'hosts' : (pointer.split('/')[1] ?? '');
  const known = KEYS[section] ?? [];
  const best = closest(key, known);
  return best ? `; did you mean "${best}"?` : `; allowed: ${known.join(', ')}`;
}
