/**
 * The test options, each declared once: its type and range, its unit, the iperf3 flag it becomes
 * and the iperf3 version that has it, whether a host may set it for its own clients, its CLI flag
 * and its help. Everything else follows from this table: the CLI's flags (lib/cli/flags.ts), the
 * inventory schema and its did-you-mean (npm run sync-docs; lib/inventory), the daemon's checks
 * (lib/daemon/validate.ts), the iperf3 argv (lib/daemon/iperf-args.ts), the results' parameters
 * and the types TestParams, IperfOptions and Tuning. Adding an option is one entry here.
 */

export type OptionKind =
  /** A whole number within [min, max]. */
  | 'int'
  /** Bits per second: a number, or one with K, M, G (powers of 1000). */
  | 'rate'
  /** Bytes: a number, or one with K, M, G (powers of 1024). */
  | 'size'
  | 'bool'
  /** A lower-case word such as a congestion control algorithm. */
  | 'name'
  /** One of `values`. */
  | 'enum'
  /** An inclusive port range, "5201-5999". */
  | 'range'
  /** A whole number within [min, max], or "auto". */
  | 'count';

export interface OptionSpec {
  kind: OptionKind;
  min?: number;
  max?: number;
  values?: readonly string[];
  /** What a number counts, for help and docs. */
  unit?: string;
  /**
   * The iperf3 flag of a client option. Absent: meshperf's own option (how many processes, which
   * schedule, which ports), which no client sees.
   */
  flag?: string;
  /** The only value that sets the flag, for an enum whose other value is iperf3's default (protocol). */
  flagValue?: string;
  /** The first iperf3 version with the flag. */
  since?: string;
  /** A host may set it in its own [hosts.test] table, for the clients it runs. */
  perHost?: boolean;
  /** The CLI flag; `bool` for an enum set by a boolean flag to `flagValue` (--udp). Absent: inventory only. */
  cli?: { name: string; alias?: string; bool?: true };
  /** Its value when nothing sets it; absent: iperf3's own default. */
  default?: number | string | boolean | readonly [number, number];
  help: string;
}

export const OPTIONS = {
  duration: { kind: 'int', min: 1, max: 86_400, unit: 'seconds', flag: '-t', cli: { name: 'duration', alias: 't' }, default: 10, help: 'seconds per test (iperf3 -t)' },
  parallel: { kind: 'int', min: 1, max: 128, unit: 'streams', flag: '-P', perHost: true, cli: { name: 'parallel', alias: 'P' }, default: 1, help: 'streams per iperf3 process (-P): threads of one pinned process' },
  processes: { kind: 'count', min: 1, max: 256, unit: 'processes', cli: { name: 'processes', alias: 'k' }, default: 'auto', help: 'iperf3 processes per ordered pair, or "auto" (sized from the hosts\' CPUs)' },
  port_range: { kind: 'range', default: [5201, 5999], help: 'ports the daemons may give their iperf3 servers' },
  protocol: { kind: 'enum', values: ['tcp', 'udp'], flag: '-u', flagValue: 'udp', cli: { name: 'udp', bool: true }, default: 'tcp', help: 'UDP instead of TCP (-u)' },
  bitrate: { kind: 'rate', min: 1, max: 1e12, unit: 'bit/s', flag: '-b', perHost: true, cli: { name: 'bitrate', alias: 'b' }, help: 'target bits/s per process, K/M/G = 10^3/10^6/10^9 (-b)' },
  reverse: { kind: 'bool', flag: '-R', cli: { name: 'reverse', alias: 'R' }, default: false, help: 'the server sends (-R)' },
  bidir: { kind: 'bool', flag: '--bidir', since: '3.7', cli: { name: 'bidir' }, default: false, help: 'both directions at once (--bidir)' },
  window: { kind: 'size', min: 1024, max: 2 ** 30, unit: 'bytes', flag: '-w', perHost: true, cli: { name: 'window', alias: 'w' }, help: 'socket buffer, K/M/G = 2^10/2^20/2^30 (-w)' },
  mss: { kind: 'int', min: 88, max: 9216, unit: 'bytes', flag: '-M', perHost: true, cli: { name: 'mss', alias: 'M' }, help: 'TCP maximum segment size (-M)' },
  congestion: { kind: 'name', flag: '-C', perHost: true, cli: { name: 'congestion', alias: 'C' }, help: 'TCP congestion control algorithm, e.g. cubic or bbr (-C)' },
  omit: { kind: 'int', min: 0, max: 3600, unit: 'seconds', flag: '-O', perHost: true, cli: { name: 'omit', alias: 'O' }, help: 'seconds of slow start left out of the summary (-O)' },
  tos: { kind: 'int', min: 0, max: 255, flag: '-S', perHost: true, cli: { name: 'tos', alias: 'S' }, help: 'IP type of service byte (-S)' },
  dscp: { kind: 'int', min: 0, max: 63, flag: '--dscp', perHost: true, cli: { name: 'dscp' }, help: 'DSCP value 0-63 (--dscp)' },
  zerocopy: { kind: 'bool', flag: '-Z', perHost: true, cli: { name: 'zerocopy', alias: 'Z' }, help: 'send with zero copy (-Z)' },
  no_delay: { kind: 'bool', flag: '-N', perHost: true, cli: { name: 'no-delay', alias: 'N' }, help: 'TCP_NODELAY (-N)' },
  schedule: { kind: 'enum', values: ['all', 'rounds', 'pairwise', 'sample', 'groups'], cli: { name: 'schedule' }, default: 'all', help: 'all pairs at once, contention-free rounds, one pair at a time, a sample of peers per round, or group against group' },
  group_by: { kind: 'name', cli: { name: 'group-by' }, help: 'groups: the label key (labels = { rack = "r1" }) whose groups are measured block against block' },
  peers: { kind: 'int', min: 1, max: 10_000, unit: 'peers', cli: { name: 'peers' }, help: 'sample: peers each host sends to (and receives from) per round (default 1)' },
  sample_rounds: { kind: 'int', min: 1, max: 10_000, unit: 'rounds', cli: { name: 'sample-rounds' }, help: 'sample: rounds, each with other peers, no pair twice before every pair once (default 1)' },
  seed: { kind: 'int', min: 0, max: 2 ** 31 - 1, cli: { name: 'seed' }, help: 'sample: the seed that picks the peers (default: a random one, recorded in the results)' },
} as const satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;
type Spec<K extends OptionKey> = (typeof OPTIONS)[K];

/** The value an option takes once read (sizes and rates as numbers). */
type ValueOf<S> = S extends { kind: 'bool' }
  ? boolean
  : S extends { kind: 'enum'; values: readonly (infer V)[] }
    ? V
    : S extends { kind: 'name' }
      ? string
      : S extends { kind: 'range' }
        ? [number, number]
        : S extends { kind: 'count' }
          ? number | 'auto'
          : number;

type WithDefault = { [K in OptionKey]: Spec<K> extends { default: unknown } ? K : never }[OptionKey];
type ClientKey = { [K in OptionKey]: Spec<K> extends { flag: string } ? K : never }[OptionKey];
type HostKey = { [K in OptionKey]: Spec<K> extends { perHost: true } ? K : never }[OptionKey];
type BoolKey = { [K in OptionKey]: Spec<K> extends { kind: 'bool' } ? K : never }[OptionKey];
type Params<Keys extends OptionKey, Required extends OptionKey> = { [K in Keys & Required]: ValueOf<Spec<K>> } & { [K in Exclude<Keys, Required>]?: ValueOf<Spec<K>> };

/** Every test option in force: those with a default always there, the others when set. */
export type TestParams = Params<OptionKey, WithDefault>;
/** How one iperf3 client measures: the options with an iperf3 flag (a switch only when on). */
export type IperfOptions = Params<ClientKey, Exclude<WithDefault, BoolKey>>;
/** What a host may set for the clients it runs, over [test]. */
export type Tuning = Pick<IperfOptions, HostKey>;
export type Schedule = ValueOf<Spec<'schedule'>>;
/** Every option's value in results (run.parameters): null where unset, false for a switch that is off. */
export type ParameterValues = { [K in OptionKey]: ValueOf<Spec<K>> | (K extends WithDefault | BoolKey ? never : null) };

/** [key, spec] pairs, in table order. */
export const OPTION_LIST = Object.entries(OPTIONS) as [OptionKey, OptionSpec][];
export const CLIENT_OPTIONS = OPTION_LIST.filter(([, s]) => s.flag !== undefined).map(([k]) => k) as ClientKey[];
export const HOST_OPTIONS = OPTION_LIST.filter(([, s]) => s.perHost).map(([k]) => k) as HostKey[];
/** What --sweep may vary from step to step: how each test runs, not which pairs or ports the plan uses. */
export const SWEEP_KEYS = OPTION_LIST.map(([k]) => k).filter((k) => !['port_range', 'schedule', 'group_by', 'peers', 'sample_rounds', 'seed'].includes(k));

/** The defaults of [test]. */
export function defaultTest(): TestParams {
  const out: Record<string, unknown> = {};
  for (const [k, s] of OPTION_LIST) if (s.default !== undefined) out[k] = Array.isArray(s.default) ? [...s.default] : s.default;
  return out as TestParams;
}

/** Rules between options, checked once, here: each broken rule as a message naming the fix. */
export function optionConflicts(o: Partial<Record<OptionKey, unknown>>): string[] {
  const out: string[] = [];
  if (o.reverse && o.bidir) out.push('reverse and bidir exclude each other (bidir already measures both directions)');
  return out;
}

/** "1G" -> 1e9 (rates: powers of 1000); "256K" -> 262144 (sizes: powers of 1024); NaN when not a size. */
export function parseSize(v: string | number, base: 1000 | 1024): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)([KMGkmg]?)$/.exec(v.trim());
  if (!m) return NaN;
  const exp = { '': 0, k: 1, m: 2, g: 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * base ** exp);
}

export const NAME_PATTERN = /^[a-z0-9_-]{1,16}$/;

/** Why `value` is not allowed for option `key`, as "must be …", or null when it is. Values already read (numbers). */
export function checkValue(key: OptionKey, value: unknown): string | null {
  const s: OptionSpec = OPTIONS[key];
  const inRange = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= (s.min ?? -Infinity) && n <= (s.max ?? Infinity);
  switch (s.kind) {
    case 'int':
    case 'rate':
    case 'size':
      return inRange(value) ? null : `must be a whole number from ${s.min} to ${s.max}`;
    case 'count':
      return value === 'auto' || inRange(value) ? null : `must be "auto" or a whole number from ${s.min} to ${s.max}`;
    case 'bool':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'name':
      return typeof value === 'string' && NAME_PATTERN.test(value) ? null : 'must be a name such as cubic or bbr (a-z, 0-9, _ and -)';
    case 'enum':
      return s.values!.includes(value as string) ? null : `must be one of ${s.values!.map((v) => `"${v}"`).join(', ')}`;
    case 'range': {
      const r = value as number[];
      return Array.isArray(r) && r.length === 2 && r.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535) && r[0]! <= r[1]! ? null : 'must be [low, high] ports';
    }
  }
}

/** A raw value (TOML or a flag's text) read into the option's value: sizes and rates to numbers. */
export function readValue(key: OptionKey, raw: unknown): unknown {
  const s: OptionSpec = OPTIONS[key];
  if (s.kind === 'rate' && (typeof raw === 'string' || typeof raw === 'number')) return parseSize(raw, 1000);
  if (s.kind === 'size' && (typeof raw === 'string' || typeof raw === 'number')) return parseSize(raw, 1024);
  return raw;
}

/** The iperf3 client arguments for options `o`, in table order. */
export function optionArgv(o: Partial<Record<OptionKey, unknown>>): string[] {
  const argv: string[] = [];
  for (const key of CLIENT_OPTIONS) {
    const s: OptionSpec = OPTIONS[key];
    const v = o[key];
    if (v === undefined || v === false) continue;
    if (s.kind === 'bool') argv.push(s.flag!);
    else if (s.flagValue !== undefined) {
      if (v === s.flagValue) argv.push(s.flag!);
    } else argv.push(s.flag!, String(v));
  }
  return argv;
}
