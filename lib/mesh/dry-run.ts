/**
 * --dry-run: the plan of a run without connecting to anything, so that a user sees what a
 * 500-host mesh would do before doing it: the ordered pairs and rounds, the iperf3 processes and
 * ports per host, the expected duration and, when the rate is known, the traffic.
 */
import type { HostConfig, TestParams } from '../inventory/types.js';
import { planCampaign, RunOptions } from './run.js';
import { atOnce, HostLoad, needsServersPerRound, planFlows, processesAtOnce, roundCount } from './plan.js';
import { planeMembers } from './planes.js';

export interface DryRun {
  hosts: number;
  schedule: TestParams['schedule'];
  /** sample: peers per round, rounds and the seed (drawn when not given). */
  sample: { peers: number; rounds: number; seed: number } | null;
  planes: string[];
  /** Ordered pairs the schedule measures, of the N·(N−1) possible. */
  ordered_pairs: number;
  possible_pairs: number;
  rounds: number;
  /** Per ordered pair; "auto" is sized at connect from each host's CPUs, and the figures assume 1. */
  processes: number | 'auto';
  /** iperf3 client processes over the run (as many servers). */
  instances: number;
  /** The busiest host: servers it keeps up, clients it runs at once, both, ports it needs. */
  per_host: { servers: number; clients_at_once: number; processes_at_once: number; ports: number };
  /** Servers started before each round, not all at the start: all at once would not fit some host's port_range or max_processes. */
  servers_per_round: boolean;
  /** Seconds of tests (rounds × duration), and a wall-time estimate with the lab's per-round overhead. */
  test_s: number;
  expected_s: number;
  /** Bytes sent when each process's rate is known (a bitrate, or UDP's 1 Mbit/s default); null for TCP without one. */
  traffic_bytes: { busiest_host: number; total: number } | null;
  /** A campaign (profiles, --sweep, --repeat): its steps; the figures above are its first step's, test_s and expected_s its whole. */
  campaign?: { steps: number; profiles: number; points: number; repeat: number; rounds: number };
}

/**
 * Beyond the tests themselves, fitted to the lab's wall clocks (issue 21): Node.js and the
 * connects, then per round its servers, prepare, release and collect, each growing with the
 * hosts (3 hosts 8 rounds: 9.8 s for 8 s of tests; 5 hosts 18 rounds: 23.9 s for 18; 8 hosts
 * one round: 1.3 s beyond 2). A real cluster pays its own round trips on top.
 */
const connectS = (hosts: number) => 0.3 + 0.05 * hosts;
const roundOverheadS = (hosts: number) => 0.15 + 0.03 * hosts;
const UDP_DEFAULT_BPS = 1e6;

export function dryRun(opts: Pick<RunOptions, 'inventory' | 'test' | 'planes' | 'profiles' | 'sweep' | 'repeat'>): DryRun {
  const { steps, tests, planes } = planCampaign(opts as RunOptions);
  const each = tests.map((test) => stepDryRun(opts.inventory.hosts, test, planes));
  const first = each[0]!;
  if (steps.length === 1) return first;
  // Connected once; then each step's rounds, each with its overhead.
  const rounds = each.reduce((a, d) => a + d.rounds, 0);
  return {
    ...first,
    test_s: each.reduce((a, d) => a + d.test_s, 0),
    expected_s: round1(connectS(opts.inventory.hosts.length) + each.reduce((a, d) => a + d.expected_s - connectS(opts.inventory.hosts.length), 0)),
    campaign: {
      steps: steps.length,
      profiles: new Set(steps.map((s) => s.profile)).size,
      points: new Set(steps.map((s) => JSON.stringify(s.point))).size,
      repeat: Math.max(...steps.map((s) => s.repetition)),
      rounds,
    },
  };
}

function stepDryRun(hosts: HostConfig[], test: TestParams, planes: string[]): DryRun {
  const k = typeof test.processes === 'number' ? test.processes : 1;
  const flows = planFlows(hosts, k, test, planes);
  const rounds = roundCount(flows);
  const pairs = new Set(flows.map((f) => `${f.src.name}>${f.dst.name}`)).size * (test.bidir ? 2 : 1);
  const possible = planes.reduce((a, p) => a + planeMembers(hosts, p).length * (planeMembers(hosts, p).length - 1), 0);
  const load = processesAtOnce(flows);
  const perRound = needsServersPerRound(hosts, load, test.port_range);
  const perHost = busiest(hosts, load, perRound);
  const rate = test.bitrate ?? (test.protocol === 'udp' ? UDP_DEFAULT_BPS : null);
  const bytesPerFlow = rate === null ? null : (rate * (test.parallel ?? 1) * test.duration * (test.bidir ? 2 : 1)) / 8;
  const sent = new Map<string, number>();
  for (const f of flows) sent.set(f.src.name, (sent.get(f.src.name) ?? 0) + 1);
  return {
    hosts: hosts.length,
    schedule: test.schedule,
    sample: test.schedule === 'sample' ? { peers: test.peers ?? 1, rounds: test.sample_rounds ?? 1, seed: test.seed! } : null,
    planes,
    ordered_pairs: pairs,
    possible_pairs: possible,
    rounds,
    processes: test.processes,
    instances: flows.length,
    per_host: perHost,
    servers_per_round: perRound,
    test_s: rounds * test.duration,
    expected_s: round1(connectS(hosts.length) + rounds * (test.duration + roundOverheadS(hosts.length))),
    traffic_bytes: bytesPerFlow === null ? null : { busiest_host: Math.max(0, ...sent.values()) * bytesPerFlow, total: flows.length * bytesPerFlow },
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function busiest(hosts: HostConfig[], load: Map<string, HostLoad>, serversPerRound: boolean): DryRun['per_host'] {
  let worst = { servers: 0, clients_at_once: 0, processes_at_once: 0, ports: 0 };
  for (const h of hosts) {
    const l = load.get(h.name);
    if (!l) continue;
    const { servers, clients } = atOnce(l, serversPerRound);
    if (servers + clients > worst.processes_at_once) worst = { servers, clients_at_once: clients, processes_at_once: servers + clients, ports: servers };
  }
  return worst;
}
