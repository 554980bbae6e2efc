/**
 * The ordered pairs (src, dst) of each round of a schedule, as indices into the hosts of a plane.
 * - all: one round, every ordered pair at once.
 * - rounds: N−1 rounds; in round r host i sends to host (i+r) mod N, so every host sends to
 *   exactly one peer and receives from exactly one, and every ordered pair comes once.
 * - pairwise: N·(N−1) rounds of one pair each.
 * - sample: `sample_rounds` rounds in which every host sends to `peers` others and receives from
 *   as many, for meshes too large to measure whole (N·(N−1) pairs). The hosts are shuffled and
 *   the shifts 1…N−1 dealt out `peers` per round in a shuffled order (both from `seed`): each
 *   round is a union of shifts (i -> i+d), so it is regular (k out, k in, at once), and the
 *   rounds never repeat a pair until every pair has come once, which spreads coverage evenly.
 * - groups: block against block by a topology label (`group_by = "rack"`): G−1 rounds; in round
 *   r every group g sends to group (g+r) mod G, its k-th host to that group's (k mod size)-th, so
 *   each round loads every inter-group link at once (a bisection), and every ordered pair of
 *   groups comes once.
 */
import type { Schedule, TestParams } from '../shared/options.js';

export type Rounds = [number, number][][];

export function scheduleRounds(n: number, schedule: Schedule, sample: SampleOptions = {}): Rounds {
  if (schedule === 'sample') return sampleRounds(n, sample);
  if (schedule === 'groups') return groupRounds(sample.groups ?? Array(n).fill(0));
  const pairs: Rounds = [];
  if (schedule === 'rounds') {
    for (let r = 1; r < n; r++) pairs.push(Array.from({ length: n }, (_, i) => [i, (i + r) % n] as [number, number]));
    return pairs;
  }
  const all: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) all.push([i, j]);
  return schedule === 'pairwise' ? all.map((p) => [p]) : [all];
}

export interface SampleOptions {
  /** Peers each host sends to (and receives from) per round; at most N−1. Default 1. */
  peers?: number;
  /** Rounds. Default 1. */
  rounds?: number;
  seed?: number;
  /** groups: each host's group (any value; hosts with the same one are a group). */
  groups?: readonly string[];
}

function groupRounds(groupOf: readonly string[]): Rounds {
  const groups = [...new Set(groupOf)].map((g) => groupOf.flatMap((x, i) => (x === g ? [i] : [])));
  const out: Rounds = [];
  for (let r = 1; r < groups.length; r++) {
    out.push(groups.flatMap((g, gi) => {
      const to = groups[(gi + r) % groups.length]!;
      return g.map((src, k) => [src, to[k % to.length]!] as [number, number]);
    }));
  }
  return out;
}

function sampleRounds(n: number, o: SampleOptions): Rounds {
  if (n < 2) return [];
  const k = Math.max(1, Math.min(n - 1, o.peers ?? 1));
  const random = mulberry32(o.seed ?? 0);
  const hosts = shuffle([...Array(n).keys()], random);
  let shifts: number[] = [];
  const out: Rounds = [];
  for (let r = 0; r < (o.rounds ?? 1); r++) {
    const chosen: number[] = [];
    while (chosen.length < k) {
      // A fresh deal of every shift once all have come: no pair again before every pair once.
      if (!shifts.length) shifts = shuffle([...Array(n - 1).keys()].map((d) => d + 1), random);
      const d = shifts.shift()!;
      if (!chosen.includes(d)) chosen.push(d);
    }
    out.push(chosen.flatMap((d) => hosts.map((h, i) => [h, hosts[(i + d) % n]!] as [number, number])));
  }
  return out;
}

/** Servers (or peers) one host has over the whole schedule, per plane of n hosts. */
export function peersPerHost(n: number, test: Pick<TestParams, 'schedule' | 'peers' | 'sample_rounds'>): number {
  // groups: a host serves at most every host of the others over the rounds; n − 1 bounds it.
  if (test.schedule !== 'sample') return n - 1;
  return Math.min(n - 1, Math.max(1, Math.min(n - 1, test.peers ?? 1)) * (test.sample_rounds ?? 1));
}

/**
 * Servers (or peers) one host has in one round, at most, per plane of n hosts: what a host must
 * hold when servers are started round by round.
 */
export function peersPerRound(n: number, test: Pick<TestParams, 'schedule' | 'peers'>): number {
  if (test.schedule === 'rounds' || test.schedule === 'pairwise') return Math.min(1, n - 1);
  if (test.schedule === 'sample') return Math.min(n - 1, Math.max(1, test.peers ?? 1));
  // all: everyone at once; groups: a host may serve a whole larger group, n − 1 bounds it.
  return n - 1;
}

/** A small, well-spread PRNG (mulberry32): the same seed, the same schedule, on any machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
