/**
 * Reading an inventory: TOML -> schema check (schemas/inventory.schema.json) -> defaults filled
 * in. Every problem becomes one line of an InventoryError naming the place and the fix.
 */
import { Ajv } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { parseCpuList } from '../shared/cpus.js';
import { LOST_AFTER_S } from '../protocol/liveness.js';
import { InventoryError } from '../shared/errors.js';
import { describeErrors } from './messages.js';
import { readThresholds } from '../results/verdict/thresholds.js';
import { expandHome } from './paths.js';
import { expandHosts } from './ranges.js';
import { discoverSshHosts } from './ssh-hosts.js';
import { ansibleToInventory, isAnsibleFile, parseAnsibleIni, parseAnsibleYaml } from './ansible.js';
import { defaultTest, HOST_OPTIONS, OPTION_LIST, OptionKey, optionConflicts, parseSize, readValue } from '../shared/options.js';
import type { CampaignConfig, HostConfig, Inventory, RuntimeConfig, SshDefaults, SshKey, TestParams } from './types.js';
import { resolveProfile, type RawProfile } from './profiles.js';

export { InventoryError };

const SCHEMA = JSON.parse(readFileSync(new URL('../../schemas/inventory.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(SCHEMA);

export const TEST_DEFAULTS: TestParams = defaultTest();

export { parseSize };

/** A raw [test] or [hosts.test] table (schema-checked) read into values: sizes and rates to numbers. */
function readOptions<K extends OptionKey>(raw: Record<string, unknown> | undefined, keys: readonly K[]): Partial<Pick<TestParams, K>> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (raw?.[k] !== undefined) out[k] = readValue(k, raw[k]);
  return out as Partial<Pick<TestParams, K>>;
}

/** Read and check an inventory file. */
export async function loadInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InventoryError(file, [`cannot read the inventory: ${(err as NodeJS.ErrnoException).code ?? err}`]);
  }
  const ansible = isAnsibleFile(file);
  if (ansible) return normalizeInventory(ansibleToInventory(ansible === 'yaml' ? parseAnsibleYaml(text, file) : parseAnsibleIni(text, file)), file);
  const raw = readToml(text, file) as RawInventory & { discover?: { ssh_config?: unknown } };
  const pattern = raw?.discover?.ssh_config;
  if (typeof pattern === 'string') {
    // [[hosts]] tables win over what the config says of the same host.
    const listed = new Set((raw.hosts ?? []).map((h) => h.name));
    const found = await discoverSshHosts(sshConfigFile(raw.ssh?.config), pattern, file);
    const { discover: _d, ...rest } = raw;
    return normalizeInventory({ ...rest, hosts: [...(raw.hosts ?? []), ...found.filter((h) => !listed.has(h.name))] }, file);
  }
  return withLines(() => normalizeInventory(raw, file), text);
}

/** Check inventory TOML text. */
export function parseInventory(text: string, source = 'inventory'): Inventory {
  return withLines(() => normalizeInventory(readToml(text, source), source), text);
}

/**
 * Problems of a [[hosts]] table named with its line in the TOML text: "hosts[2] ..." becomes
 * "line 14: hosts[2] ...". A table expanded from a range counts as one (its hosts share its line).
 */
function withLines<T>(f: () => T, text: string): T {
  try {
    return f();
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    const tables = text.split('\n').flatMap((l, i) => (/^\s*\[\[\s*hosts\s*\]\]/.test(l) ? [i + 1] : []));
    const origin = (err as InventoryError & { origin?: number[] }).origin;
    const lines = text.split('\n');
    const problems = err.problems.map((p) => {
      const m = /^hosts\[(\d+)\]/.exec(p);
      const table = m ? (origin?.[Number(m[1])] ?? Number(m[1])) : undefined;
      // A profile's problem: the line of its [profiles.NAME] table.
      const profile = /^profiles\.([\w.-]+?)(\.extends)?:/.exec(p)?.[1];
      const at = profile ? lines.findIndex((l) => new RegExp(`^\\s*\\[\\s*profiles\\.("?)${profile.replace(/[.-]/g, '\\$&')}\\1\\s*\\]`).test(l)) + 1 : 0;
      const line = table !== undefined ? tables[table] : at || undefined;
      return line ? `line ${line}: ${p}` : p;
    });
    throw new InventoryError(err.source, problems);
  }
}

function readToml(text: string, source: string): unknown {
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
  return raw;
}

/** Check an inventory given as a plain object (what TOML parses to), and fill in defaults. */
export function normalizeInventory(rawIn: unknown, source = 'inventory'): Inventory {
  const expanded = expandHosts((rawIn as { hosts?: unknown } | null)?.hosts);
  if (expanded.problems.length) throw new InventoryError(source, expanded.problems);
  // Which [[hosts]] table each host came from, for messages (withLines).
  const fail = (problems: string[]) => Object.assign(new InventoryError(source, problems), { origin: expanded.origin });
  const raw = expanded.hosts === (rawIn as { hosts?: unknown } | null)?.hosts ? rawIn : { ...(rawIn as object), hosts: expanded.hosts };
  if (!validate(raw)) {
    throw fail(describeErrors(validate.errors ?? [], raw));
  }
  const r = raw as RawInventory & { discover?: unknown };
  const problems: string[] = [];
  if (r.discover) problems.push('discover: hosts are discovered only when the inventory is read from a file (loadInventory), which runs ssh -G');
  const ssh: SshDefaults = {
    user: r.ssh?.user ?? os.userInfo().username,
    port: r.ssh?.port ?? 22,
    identity_file: r.ssh?.identity_file ? expandHome(r.ssh.identity_file) : undefined,
    known_hosts: expandHome(r.ssh?.known_hosts ?? '~/.ssh/known_hosts'),
    connect_timeout: r.ssh?.connect_timeout ?? 10,
    lost_after: r.ssh?.lost_after ?? LOST_AFTER_S,
    concurrency: r.ssh?.concurrency ?? 8,
    connect_attempts: r.ssh?.connect_attempts ?? 3,
    accept_new_host_keys: r.ssh?.accept_new_host_keys ?? false,
    config: sshConfigFile(r.ssh?.config),
    ...(r.ssh?.jump ? { jump: r.ssh.jump } : {}),
  };
  const runtime: RuntimeConfig = {
    push_node: r.runtime?.push_node ?? 'auto',
    keep_runtime: r.runtime?.keep_runtime ?? false,
    binaries: Object.fromEntries(Object.entries(r.runtime ?? {}).filter(([k]) => k.includes('-')).map(([k, v]) => [k, expandHome(String(v))])),
  };
  const sshSet = SSH_KEYS.filter((k) => r.ssh?.[k] !== undefined);
  const { port_range: rawRange, profile: rawProfile, repeat, ...rawTest } = (r.test ?? {}) as RawOptions & { profile?: string | string[]; repeat?: number };
  const test: TestParams = { ...TEST_DEFAULTS, ...readOptions(rawTest, OPTION_LIST.map(([k]) => k).filter((k) => k !== 'port_range')) };
  problems.push(...optionConflicts(test).map((m) => `test: ${m}`));
  if (typeof rawRange === 'string') {
    const range = parsePortRange(rawRange);
    if (typeof range === 'string') problems.push(`test.port_range: ${range}`);
    else test.port_range = range;
  }
  const hosts = (r.hosts ?? []).map((h): HostConfig => ({
    name: h.name,
    address: h.address,
    ssh_host: h.ssh_host ?? h.address,
    planes: h.planes ?? {},
    iperf3: h.iperf3 ?? r.runtime?.iperf3 ?? 'iperf3',
    node: h.node ?? r.runtime?.node ?? 'node',
    ssh: {
      user: h.user ?? ssh.user,
      port: h.port ?? ssh.port,
      identity_file: h.identity_file ? expandHome(h.identity_file) : ssh.identity_file,
      known_hosts: h.known_hosts ? expandHome(h.known_hosts) : ssh.known_hosts,
      connect_timeout: ssh.connect_timeout,
      lost_after: ssh.lost_after,
      connect_attempts: ssh.connect_attempts,
      accept_new_host_keys: ssh.accept_new_host_keys,
      config: ssh.config,
      ...(h.jump ?? ssh.jump ? { jump: h.jump ?? ssh.jump } : {}),
      set: [...new Set([...sshSet, ...SSH_KEYS.filter((k) => h[k as keyof RawHost] !== undefined)])],
    },
    ...(h.labels ? { labels: Array.isArray(h.labels) ? h.labels : Object.entries(h.labels).map(([k, v]) => `${k}=${v}`) } : {}),
    ...(h.cpus ? { cpus: parseCpuList(h.cpus) } : {}),
    ...(h.max_processes ? { max_processes: h.max_processes } : {}),
    test: readOptions(h.test, HOST_OPTIONS),
  }));
  const profiles = r.profiles ?? {};
  // Every profile of the inventory resolves (no cycle, no unknown `extends`), used or not.
  for (const name of Object.keys(profiles)) {
    const p = resolveProfile(name, profiles, `profiles.${name}`);
    if (typeof p === 'string') problems.push(p);
  }
  const campaign: CampaignConfig = {
    profiles: rawProfile === undefined ? [] : Array.isArray(rawProfile) ? rawProfile : [rawProfile],
    sweep: Object.fromEntries(Object.entries(r.sweep ?? {}).map(([k, vs]) => [k, vs.map((v) => readValue(k as OptionKey, v))])),
    repeat: repeat ?? 1,
  };
  for (const name of campaign.profiles) {
    const p = resolveProfile(name, profiles, 'test.profile');
    if (typeof p === 'string' && !Object.hasOwn(profiles, name)) problems.push(p);
  }
  const { thresholds, problems: thresholdProblems } = readThresholds(r.thresholds);
  problems.push(...duplicates(hosts, 'name'), ...duplicates(hosts, 'address'), ...planeProblems(hosts), ...thresholdProblems);
  if (problems.length > 0) throw fail(problems);
  return { source, transport: r.transport ?? 'ssh', ssh, runtime, test, thresholds, hosts, profiles, campaign };
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


/** The [ssh] keys a host may also set, and that then win over the OpenSSH config. */
const SSH_KEYS: SshKey[] = ['user', 'port', 'identity_file', 'known_hosts', 'connect_timeout', 'accept_new_host_keys', 'jump'];

/** [ssh] config: a named file, false for none, else ~/.ssh/config when it exists. */
function sshConfigFile(value: string | false | undefined): string | null {
  if (value === false) return null;
  if (value !== undefined) return expandHome(value);
  const file = path.join(os.homedir(), '.ssh', 'config');
  return existsSync(file) ? file : null;
}

/** "default" and "all" name the plane of `address` and every plane on the command line. */
function planeProblems(hosts: HostConfig[]): string[] {
  const out: string[] = [];
  hosts.forEach((h, i) => {
    for (const name of Object.keys(h.planes)) {
      if (name === 'default' || name === 'all') out.push(`hosts[${i}] ("${h.name}").planes.${name}: "${name}" is reserved (--plane ${name}); name the plane otherwise, e.g. "rail1"`);
    }
  });
  const seen = new Map<string, string>();
  for (const h of hosts) {
    for (const [plane, a] of Object.entries(h.planes)) {
      // A host's own address may be one of its planes too (its first rail, say).
      const other = seen.get(a) ?? (hosts.some((x) => x.address === a && x !== h) ? 'the address of another host' : undefined);
      if (other) out.push(`hosts ("${h.name}").planes.${plane}: "${a}" is already ${other}; each plane address belongs to one host and one plane`);
      seen.set(a, `plane ${plane} of ${h.name}`);
    }
  }
  return out;
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

type RawOptions = Record<string, unknown>;

interface RawHost {
  name: string;
  address: string;
  ssh_host?: string;
  planes?: Record<string, string>;
  jump?: string;
  labels?: string[] | Record<string, string>;
  connect_timeout?: never;
  accept_new_host_keys?: never;
  iperf3?: string;
  node?: string;
  user?: string;
  port?: number;
  identity_file?: string;
  known_hosts?: string;
  cpus?: string;
  max_processes?: number;
  test?: RawOptions;
}

interface RawInventory {
  transport?: 'ssh' | 'local';
  ssh?: Partial<Omit<SshDefaults, 'config'>> & { config?: string | false };
  runtime?: { node?: string; iperf3?: string; push_node?: 'auto' | 'never'; keep_runtime?: boolean } & Record<string, unknown>;
  test?: RawOptions;
  thresholds?: Record<string, unknown>;
  hosts?: RawHost[];
  profiles?: Record<string, RawProfile>;
  sweep?: Record<string, unknown[]>;
}
