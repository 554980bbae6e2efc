/**
 * Reading an inventory: TOML -> schema check (schemas/inventory.schema.json) -> defaults filled
 * in. Every problem becomes one line of an InventoryError naming the place and the fix.
 */
import { Ajv, ErrorObject } from 'ajv';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { parseCpuList } from '../daemon/proc.js';
import type { HostConfig, Inventory, Schedule, SshDefaults, TestParams, Tuning } from './types.js';

export class InventoryError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length === 1 ? problems[0] : '\n  - ' + problems.join('\n  - ')}`);
  }
}

const SCHEMA = JSON.parse(readFileSync(new URL('../../schemas/inventory.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(SCHEMA);

export const TEST_DEFAULTS: TestParams = {
  duration: 10,
  parallel: 1,
  processes: 'auto',
  port_range: [5201, 5999],
  protocol: 'tcp',
  reverse: false,
  bidir: false,
  schedule: 'all',
};

/** "1G" -> 1e9 bits (rates: powers of 1000); "256K" -> 262144 bytes (sizes: powers of 1024). */
export function parseSize(v: string | number, base: 1000 | 1024): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)([KMGkmg]?)$/.exec(v.trim());
  if (!m) return NaN;
  const exp = { '': 0, k: 1, m: 2, g: 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * base ** exp);
}

/** Parse a raw tuning table (from [test] or a host's own) into numbers. */
export function tuningOf(raw: RawTuning | undefined): Partial<Tuning> {
  const t: Partial<Tuning> = {};
  if (!raw) return t;
  for (const k of ['parallel', 'mss', 'congestion', 'omit', 'tos', 'dscp', 'zerocopy', 'no_delay'] as const) {
    if (raw[k] !== undefined) (t as Record<string, unknown>)[k] = raw[k];
  }
  if (raw.bitrate !== undefined) t.bitrate = parseSize(raw.bitrate, 1000);
  if (raw.window !== undefined) t.window = parseSize(raw.window, 1024);
  return t;
}

/** Read and check an inventory file. */
export async function loadInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InventoryError(file, [`cannot read the inventory: ${(err as NodeJS.ErrnoException).code ?? err}`]);
  }
  return parseInventory(text, file);
}

/** Check inventory TOML text. */
export function parseInventory(text: string, source = 'inventory'): Inventory {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0];
      throw new InventoryError(source, [`line ${err.line}, column ${err.column}: TOML syntax error: ${first}`]);
    }
    throw err;
  }
  return normalizeInventory(raw, source);
}

/** Check an inventory given as a plain object (what TOML parses to), and fill in defaults. */
export function normalizeInventory(raw: unknown, source = 'inventory'): Inventory {
  if (!validate(raw)) {
    throw new InventoryError(source, describeErrors(validate.errors ?? [], raw));
  }
  const r = raw as RawInventory;
  const problems: string[] = [];
  const ssh: SshDefaults = {
    user: r.ssh?.user ?? os.userInfo().username,
    port: r.ssh?.port ?? 22,
    identity_file: r.ssh?.identity_file ? expandHome(r.ssh.identity_file) : undefined,
    known_hosts: expandHome(r.ssh?.known_hosts ?? '~/.ssh/known_hosts'),
    connect_timeout: r.ssh?.connect_timeout ?? 10,
    concurrency: r.ssh?.concurrency ?? 8,
    connect_attempts: r.ssh?.connect_attempts ?? 3,
    accept_new_host_keys: r.ssh?.accept_new_host_keys ?? false,
  };
  const test: TestParams = {
    ...TEST_DEFAULTS,
    ...tuningOf(r.test),
    duration: r.test?.duration ?? TEST_DEFAULTS.duration,
    processes: r.test?.processes ?? TEST_DEFAULTS.processes,
    protocol: r.test?.protocol ?? TEST_DEFAULTS.protocol,
    reverse: r.test?.reverse ?? false,
    bidir: r.test?.bidir ?? false,
    schedule: r.test?.schedule ?? TEST_DEFAULTS.schedule,
  };
  if (test.reverse && test.bidir) problems.push('test: reverse and bidir exclude each other (bidir already measures both directions)');
  if (r.test?.port_range) {
    const range = parsePortRange(r.test.port_range);
    if (typeof range === 'string') problems.push(`test.port_range: ${range}`);
    else test.port_range = range;
  }
  const hosts = r.hosts.map((h): HostConfig => ({
    name: h.name,
    address: h.address,
    iperf3: h.iperf3 ?? 'iperf3',
    node: h.node ?? 'node',
    ssh: {
      user: h.user ?? ssh.user,
      port: h.port ?? ssh.port,
      identity_file: h.identity_file ? expandHome(h.identity_file) : ssh.identity_file,
      known_hosts: h.known_hosts ? expandHome(h.known_hosts) : ssh.known_hosts,
      connect_timeout: ssh.connect_timeout,
      connect_attempts: ssh.connect_attempts,
      accept_new_host_keys: ssh.accept_new_host_keys,
    },
    ...(h.cpus ? { cpus: parseCpuList(h.cpus) } : {}),
    ...(h.max_processes ? { max_processes: h.max_processes } : {}),
    test: tuningOf(h.test),
  }));
  problems.push(...duplicates(hosts, 'name'), ...duplicates(hosts, 'address'));
  if (problems.length > 0) throw new InventoryError(source, problems);
  return { source, transport: r.transport ?? 'ssh', ssh, test, hosts };
}

/** "5201-5999" -> [5201, 5999], or a message saying what is wrong. */
export function parsePortRange(text: string): [number, number] | string {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  if (!m) return `"${text}" is not a range like "5201-5999"`;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo < 1 || hi > 65535) return `"${text}" must lie within 1-65535`;
  if (lo > hi) return `"${text}" is inverted: write the lower port first ("${hi}-${lo}")`;
  return [lo, hi];
}

function expandHome(p: string): string {
  return path.resolve(p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p);
}

function duplicates(hosts: HostConfig[], key: 'name' | 'address'): string[] {
  const seen = new Map<string, number>();
  const out: string[] = [];
  hosts.forEach((h, i) => {
    const first = seen.get(h[key]);
    if (first !== undefined) out.push(`hosts[${i}].${key}: "${h[key]}" is already used by hosts[${first}]; each host needs its own ${key}`);
    else seen.set(h[key], i);
  });
  return out;
}

const HINTS: Record<string, string> = {
  name: 'letters, digits and . _ - (up to 63, starting with a letter or digit)',
  address: 'an IP address or DNS name: letters, digits and . : _ - (no spaces or shell characters)',
  iperf3: 'an absolute path of letters, digits and . _ / + -',
  node: 'an absolute path of letters, digits and . _ / + -',
  user: 'a login name: lower-case letters, digits and _ . -',
  port_range: 'a range like "5201-5999"',
  cpus: 'a CPU list like "2-15" or "0,2,4-7"',
  congestion: 'a congestion control name such as "cubic" or "bbr"',
};

const ONE_OF_HINTS: Record<string, string> = {
  processes: 'must be "auto" or a whole number from 1 to 256',
  bitrate: 'must be bits per second per process: a number, or one with K, M or G (e.g. "500M")',
  window: 'must be bytes: a number of at least 1024, or one with K, M or G (e.g. "256K")',
};

/** Turn ajv's errors into lines a person can act on: place, what is wrong, what is allowed. */
function describeErrors(errors: ErrorObject[], raw: unknown): string[] {
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
  '': ['transport', 'ssh', 'test', 'hosts'],
  ssh: ['user', 'port', 'identity_file', 'known_hosts', 'connect_timeout', 'concurrency', 'connect_attempts', 'accept_new_host_keys'],
  test: ['duration', 'parallel', 'processes', 'port_range', 'protocol', 'bitrate', 'reverse', 'bidir', 'window', 'mss', 'congestion', 'omit', 'tos', 'dscp', 'zerocopy', 'no_delay', 'schedule'],
  hosts: ['name', 'address', 'iperf3', 'node', 'user', 'port', 'identity_file', 'known_hosts', 'cpus', 'max_processes', 'test'],
  'hosts.test': ['parallel', 'bitrate', 'window', 'mss', 'congestion', 'omit', 'tos', 'dscp', 'zerocopy', 'no_delay'],
};

function didYouMean(key: string, pointer: string): string {
  const section = /^\/hosts\/\d+\/test/.test(pointer) ? 'hosts.test' : pointer.startsWith('/hosts') ? 'hosts' : (pointer.split('/')[1] ?? '');
  const known = KEYS[section] ?? [];
  const best = known
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k) }))
    .sort((a, b) => a.d - b.d)[0];
  if (best && best.d <= Math.max(2, Math.floor(key.length / 3))) return `; did you mean "${best.k}"?`;
  return `; allowed: ${known.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

type RawTuning = Partial<Record<'parallel' | 'mss' | 'omit' | 'tos' | 'dscp', number>> & {
  bitrate?: string | number;
  window?: string | number;
  congestion?: string;
  zerocopy?: boolean;
  no_delay?: boolean;
};

interface RawHost {
  name: string;
  address: string;
  iperf3?: string;
  node?: string;
  user?: string;
  port?: number;
  identity_file?: string;
  known_hosts?: string;
  cpus?: string;
  max_processes?: number;
  test?: RawTuning;
}

interface RawInventory {
  transport?: 'ssh' | 'local';
  ssh?: Partial<SshDefaults>;
  test?: RawTuning & {
    duration?: number;
    processes?: number | 'auto';
    port_range?: string;
    protocol?: 'tcp' | 'udp';
    reverse?: boolean;
    bidir?: boolean;
    schedule?: Schedule;
  };
  hosts: RawHost[];
}
