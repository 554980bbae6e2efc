/**
 * Reading an inventory: TOML -> schema check (schemas/inventory.schema.json) -> defaults filled
 * in. Every problem becomes one line of an InventoryError naming the place and the fix.
 */
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { parseCpuList } from '../shared/cpus.js';
import { InventoryError } from '../shared/errors.js';
import { describeErrors } from './messages.js';
export { InventoryError };
import type { HostConfig, Inventory, Schedule, SshDefaults, TestParams, Tuning } from './types.js';

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
