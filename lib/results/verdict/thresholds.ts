/**
 * What a pair must reach to pass: the [thresholds] table of the inventory and its flags, each
 * declared once here (kind, flag, help, default), like the test options of lib/shared/options.ts.
 */
import { parseSize } from '../../shared/options.js';

export interface Thresholds {
  /** Bits per second every pair must carry. */
  min_throughput: number | null;
  /** Percent of the run's median pair: robust on any hardware, no number to know beforehand. */
  min_percent_of_median: number | null;
  /**
   * Percent of what the pair can carry under its schedule: with "all", each end's line rate
   * shared by its peers; one pair at a time, the slower end's line rate; less the protocol's
   * headers. Needs the interfaces' speed (not known for every virtual NIC).
   */
  min_percent_of_line_rate: number | null;
  /** UDP: most packets lost, percent. */
  max_loss_percent: number | null;
  /** TCP: most retransmits of a pair, over the test. */
  max_retransmits: number | null;
  /** TCP: highest mean round-trip time, milliseconds. */
  max_rtt: number | null;
}

export type ThresholdKey = keyof Thresholds;

interface ThresholdSpec {
  kind: 'rate' | 'percent' | 'count' | 'ms';
  flag: string;
  help: string;
  default: number | null;
}

export const THRESHOLDS: Record<ThresholdKey, ThresholdSpec> = {
  min_throughput: { kind: 'rate', flag: 'min-throughput', default: null, help: 'fail a pair below this many bits/s, K/M/G = 10^3/10^6/10^9 (e.g. 500M)' },
  // Half the median: a healthy mesh on a shared 2-core lab stays within ±20 % of its median; a
  // broken NIC or a link negotiated down reads a few percent of it.
  min_percent_of_median: { kind: 'percent', flag: 'min-percent-of-median', default: 50, help: 'fail a pair below this percent of the run\'s median pair (default 50; 0 to turn off)' },
  min_percent_of_line_rate: { kind: 'percent', flag: 'min-percent-of-line-rate', default: null, help: 'fail a pair below this percent of what its ends\' line rates allow under the schedule' },
  max_loss_percent: { kind: 'percent', flag: 'max-loss-percent', default: 1, help: 'UDP: fail a pair that lost more than this percent of its packets (default 1)' },
  max_retransmits: { kind: 'count', flag: 'max-retransmits', default: null, help: 'TCP: fail a pair with more retransmits than this' },
  max_rtt: { kind: 'ms', flag: 'max-rtt', default: null, help: 'TCP: fail a pair whose mean round-trip time exceeds this many milliseconds' },
};

export const THRESHOLD_KEYS = Object.keys(THRESHOLDS) as ThresholdKey[];

export function defaultThresholds(): Thresholds {
  return Object.fromEntries(THRESHOLD_KEYS.map((k) => [k, THRESHOLDS[k].default])) as unknown as Thresholds;
}

/**
 * One threshold as written (TOML value or flag text) read into its number, or why not, as a
 * message that says what is expected. 0 turns a threshold off (null).
 */
export function readThreshold(key: ThresholdKey, raw: unknown): { value: number | null } | { problem: string } {
  const s = THRESHOLDS[key];
  const text = typeof raw === 'string' ? raw.trim().replace(/%$/, '') : raw;
  const n = s.kind === 'rate' && (typeof text === 'string' || typeof text === 'number') ? parseSize(text, 1000) : typeof text === 'string' && text !== '' ? Number(text) : text;
  const expect = {
    rate: 'a rate in bits/s, a number optionally with K, M or G (e.g. 500M)',
    percent: 'a percent from 0 to 100 (e.g. 90)',
    count: 'a whole number, 0 or more',
    ms: 'milliseconds, a number above 0 (e.g. 5)',
  }[s.kind];
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return { problem: `must be ${expect}` };
  if (s.kind === 'percent' && n > 100) return { problem: `must be ${expect}` };
  if (s.kind === 'count' && !Number.isInteger(n)) return { problem: `must be ${expect}` };
  // 0 means "not checked" for a floor; a ceiling of 0 is a real limit (no loss, no retransmit).
  return { value: n === 0 && key.startsWith('min_') ? null : n };
}

/** A [thresholds] table read over the defaults, with a problem per bad key (named as in the file). */
export function readThresholds(raw: Record<string, unknown> | undefined, where = 'thresholds'): { thresholds: Thresholds; problems: string[] } {
  const thresholds = defaultThresholds();
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (!(key in THRESHOLDS)) {
      problems.push(`${where}.${key}: unknown threshold; known: ${THRESHOLD_KEYS.join(', ')}`);
      continue;
    }
    const r = readThreshold(key as ThresholdKey, value);
    if ('problem' in r) problems.push(`${where}.${key} ${r.problem}, got ${JSON.stringify(value)}`);
    else thresholds[key as ThresholdKey] = r.value;
  }
  return { thresholds, problems };
}
