/**
 * The test flags of the meshperf command and their checks. Numbers are read as strings, so an
 * error can quote exactly what was typed. Each flag overrides the inventory's [test] value.
 */
import type { Argv } from 'yargs';
import { parseSize, UsageError } from '../index.js';
import type { Schedule, TestParams } from '../index.js';

export { UsageError };

export function positiveInt(name: string, max: number, min = 1) {
  return (v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = /^\d+$/.test(String(v).trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}

function size(name: string, base: 1000 | 1024, min: number, example: string) {
  return (v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = parseSize(String(v), base);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number, optionally with K, M or G (e.g. ${example}), got ${JSON.stringify(v)}`);
    return n;
  };
}

export const testFlags = (y: Argv) =>
  y
    .option('duration', { alias: 't', type: 'string', describe: 'seconds per test (iperf3 -t)' })
    .option('parallel', { alias: 'P', type: 'string', describe: 'streams per iperf3 process (-P)' })
    .option('processes', { alias: 'k', type: 'string', describe: 'iperf3 processes per ordered pair, or "auto"' })
    .option('schedule', { choices: ['all', 'rounds', 'pairwise'] as const, describe: 'all pairs at once, contention-free rounds, or one pair at a time' })
    .option('udp', { type: 'boolean', describe: 'UDP instead of TCP (-u)' })
    .option('bitrate', { alias: 'b', type: 'string', describe: 'target bits/s per process, K/M/G suffixes (-b)' })
    .option('reverse', { alias: 'R', type: 'boolean', describe: 'the server sends (-R)' })
    .option('bidir', { type: 'boolean', describe: 'both directions at once (--bidir)' })
    .option('window', { alias: 'w', type: 'string', describe: 'socket buffer, K/M/G suffixes (-w)' })
    .option('mss', { alias: 'M', type: 'string', describe: 'TCP maximum segment size (-M)' })
    .option('congestion', { alias: 'C', type: 'string', describe: 'TCP congestion control algorithm (-C)' })
    .option('omit', { alias: 'O', type: 'string', describe: 'seconds of slow start left out of the summary (-O)' })
    .option('tos', { alias: 'S', type: 'string', describe: 'IP type of service byte (-S)' })
    .option('dscp', { type: 'string', describe: 'DSCP value 0-63 (--dscp)' })
    .option('zerocopy', { alias: 'Z', type: 'boolean', describe: 'send with zero copy (-Z)' })
    .option('no-delay', { alias: 'N', type: 'boolean', describe: 'TCP_NODELAY (-N)' });

export interface TestFlagArgs {
  duration?: string;
  parallel?: string;
  processes?: string;
  schedule?: Schedule;
  udp?: boolean;
  bitrate?: string;
  reverse?: boolean;
  bidir?: boolean;
  window?: string;
  mss?: string;
  congestion?: string;
  omit?: string;
  tos?: string;
  dscp?: string;
  zerocopy?: boolean;
  noDelay?: boolean;
}

/** The [test] overrides the flags ask for; undefined where a flag was not given. */
export function testOverrides(a: TestFlagArgs): Partial<TestParams> {
  if (a.reverse && a.bidir) throw new UsageError('--reverse and --bidir exclude each other (--bidir already measures both directions)');
  if (a.congestion !== undefined && !/^[a-z0-9_-]{1,16}$/.test(a.congestion)) {
    throw new UsageError(`--congestion must be a congestion control name such as cubic or bbr, got ${JSON.stringify(a.congestion)}`);
  }
  return {
    duration: positiveInt('duration', 86400)(a.duration),
    parallel: positiveInt('parallel', 128)(a.parallel),
    processes: a.processes === 'auto' ? 'auto' : positiveInt('processes', 256)(a.processes),
    schedule: a.schedule,
    protocol: a.udp === undefined ? undefined : a.udp ? 'udp' : 'tcp',
    bitrate: size('bitrate', 1000, 1, '500M')(a.bitrate),
    reverse: a.reverse,
    bidir: a.bidir,
    window: size('window', 1024, 1024, '256K')(a.window),
    mss: positiveInt('mss', 9216, 88)(a.mss),
    congestion: a.congestion,
    omit: positiveInt('omit', 3600, 0)(a.omit),
    tos: positiveInt('tos', 255, 0)(a.tos),
    dscp: positiveInt('dscp', 63, 0)(a.dscp),
    zerocopy: a.zerocopy,
    no_delay: a.noDelay,
  };
}
