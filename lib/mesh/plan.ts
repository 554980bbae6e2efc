/**
 * Who serves whom, and when: pure functions from hosts and parameters to the rounds of a
 * schedule and the specs sent to each daemon.
 */
import type { HostConfig, TestParams } from '../inventory/types.js';
import type { ClientSpec, IperfOptions, ServerSpec } from '../protocol/messages.js';
import { CLIENT_OPTIONS } from '../shared/options.js';
import { peersPerHost, peersPerRound, scheduleRounds } from './schedules.js';
import { DEFAULT_PLANE, planeMembers } from './planes.js';

/** An instance's id, unique in a run: "h1>h2#0", or "h1>h2:rail1#0" on a named plane. */
export function instanceId(source: string, destination: string, instance: number, plane = DEFAULT_PLANE): string {
  return `${source}>${destination}${plane === DEFAULT_PLANE ? '' : ':' + plane}#${instance}`;
}

/** One iperf3 client/server pair of the mesh: data flows from `src` to `dst`. */
export interface Flow {
  id: string;
  src: HostConfig;
  dst: HostConfig;
  instance: number;
  /** The host that runs the client (src, or dst with reverse). */
  client: HostConfig;
  /** The host that runs the server. */
  server: HostConfig;
  round: number;
  /** The plane (rail) it runs on, and the addresses it binds to there. */
  plane: string;
  clientAddress: string;
  serverAddress: string;
  /** How its client measures: [test] with the client host's own settings over it. */
  options: IperfOptions;
  /** Measured again alone after the mesh (--retest). */
  retest?: boolean;
}

/**
 * processes = "auto": every host runs K clients and K servers per peer, 2·K·(N−1) iperf3
 * processes in all, each pinned to one core. K is the largest number that keeps that within the
 * smallest host's usable CPUs, its max_processes, and a memory budget, and at least 1. (iperf3 -A
 * pins a whole process, so all -P streams of one process share its core: more processes, not more
 * streams, is what uses more cores.)
 */
export function autoProcesses(hosts: { cpus: number; maxProcesses?: number | null; freeMemory?: number }[], hostCount: number): number {
  if (hostCount < 2 || hosts.length === 0) return 1;
  const perPeer = 2 * (hostCount - 1);
  const limits = hosts.map((h) => {
    let budget = h.cpus;
    if (h.maxProcesses) budget = Math.min(budget, h.maxProcesses);
    if (h.freeMemory !== undefined) budget = Math.min(budget, Math.floor(h.freeMemory / 2 / MEMORY_PER_PROCESS));
    return budget;
  });
  return Math.max(1, Math.floor(Math.min(...limits) / perPeer));
}

/** What one iperf3 process may need (its buffers and stream threads): half of free memory is the budget. */
export const MEMORY_PER_PROCESS = 64 * 1024 * 1024;

/**
 * Every flow of the run. With bidir one flow measures both directions, so only src before dst
 * (in inventory order) gets one; with reverse the client runs on the receiving host. Each plane
 * is scheduled on its own members; its round r runs together with every other plane's round r.
 */
export function planFlows(hosts: HostConfig[], processes: number, test: TestParams, planes: readonly string[] = [DEFAULT_PLANE]): Flow[] {
  const flows: Flow[] = [];
  for (const plane of planes) {
    const members = planeMembers(hosts, plane);
    const groups = members.map((m) => groupOf(m.host, test.group_by));
    scheduleRounds(members.length, test.schedule, { peers: test.peers, rounds: test.sample_rounds, seed: test.seed, groups }).forEach((pairs, round) => {
      for (const [i, j] of pairs) {
        if (test.bidir && i > j) continue;
        const src = members[i]!;
        const dst = members[j]!;
        const [client, server] = test.reverse ? [dst, src] : [src, dst];
        for (let k = 0; k < processes; k++) {
          flows.push({
            id: instanceId(src.host.name, dst.host.name, k, plane),
            src: src.host,
            dst: dst.host,
            instance: k,
            client: client.host,
            server: server.host,
            round,
            plane,
            clientAddress: client.address,
            serverAddress: server.address,
            options: clientOptions(test, client.host),
          });
        }
      }
    });
  }
  return flows;
}

/** A host's group under `group_by` (its label key=value), "" when it has none. */
export function groupOf(host: HostConfig, key: string | undefined): string {
  const label = key ? host.labels?.find((l) => l.startsWith(`${key}=`)) : undefined;
  return label ? label.slice(key!.length + 1) : '';
}

/** The number of rounds in a list of flows. */
export function roundCount(flows: Flow[]): number {
  return flows.reduce((m, f) => Math.max(m, f.round + 1), 0);
}

/** Items by host name (every host present, maybe with an empty list). */
function byHost<T>(hosts: HostConfig[], items: { host: string; item: T }[]): Map<string, T[]> {
  const out = new Map<string, T[]>(hosts.map((h) => [h.name, []]));
  for (const { host, item } of items) out.get(host)?.push(item);
  return out;
}

/** For each host, the servers it runs (all rounds'), bound to its own address. */
export function planServers(hosts: HostConfig[], flows: Flow[]): Map<string, ServerSpec[]> {
  return byHost(
    hosts,
    flows.map((f) => ({ host: f.server.name, item: { id: f.id, source: f.src.name, destination: f.dst.name, instance: f.instance, bind: f.serverAddress } })),
  );
}

/** The options a client on `host` runs with: [test], then the host's own settings over it; switches only when on. */
export function clientOptions(test: TestParams, host: HostConfig): IperfOptions {
  const t: Record<string, unknown> = { ...test, ...host.test };
  const o: Record<string, unknown> = {};
  for (const k of CLIENT_OPTIONS) if (t[k] !== undefined && t[k] !== false) o[k] = t[k];
  return o as IperfOptions;
}

/**
 * For each host, the clients it runs in one round: one per flow whose server really started,
 * connecting to the port that server's daemon chose.
 */
export function planClients(hosts: HostConfig[], flows: Flow[], serverPorts: ReadonlyMap<string, number>): Map<string, ClientSpec[]> {
  const specs: { host: string; item: ClientSpec }[] = [];
  for (const f of flows) {
    const port = serverPorts.get(f.id);
    if (port === undefined) continue;
    specs.push({
      host: f.client.name,
      item: {
        id: f.id,
        source: f.src.name,
        destination: f.dst.name,
        instance: f.instance,
        host: f.serverAddress,
        port,
        bind: f.clientAddress,
        options: f.options,
      },
    });
  }
  return byHost(hosts, specs);
}

/** A whole plan: what runs where and when, with the limits already checked. */
export interface Plan {
  /** iperf3 processes per ordered pair (resolved when "auto"). */
  processes: number;
  flows: Flow[];
  rounds: number;
  /** Seconds a server waits for its client before giving up (iperf3 --idle-timeout). */
  idleTimeout: number;
  /** Hosts left out because the plan would exceed their max_processes, with why. */
  refused: { host: string; message: string }[];
  /**
   * Servers are started for each round, just before it, instead of all at the start: keeping
   * every round's servers up would exceed some host's port range or max_processes.
   */
  serversPerRound: boolean;
}

/** What a round takes beyond its duration in a healthy run (release, collect), generously. */
const ROUND_OVERHEAD_S = 15;

/**
 * The plan for the hosts that answered hello. Hosts whose max_processes the plan would exceed
 * are refused and the plan is made again without them. `collectWaitS` is how long the last round
 * may stretch: a server waits for every round before its own.
 */
export function planRun(hosts: { config: HostConfig; hello: AutoFacts }[], test: TestParams, collectWaitS: number, planes: readonly string[] = [DEFAULT_PLANE]): Plan {
  const processes = resolveProcesses(hosts.map((h) => h.hello), test, planes.length);
  let live = hosts.map((h) => h.config);
  let flows = live.length >= 2 ? planFlows(live, processes, test, planes) : [];
  const load = processesAtOnce(flows);
  let serversPerRound = needsServersPerRound(live, load, test.port_range);
  const refused = overLimit(live, load, serversPerRound);
  if (refused.length) {
    live = live.filter((h) => !refused.some((r) => r.host === h.name));
    flows = live.length >= 2 ? planFlows(live, processes, test, planes) : [];
    serversPerRound = needsServersPerRound(live, processesAtOnce(flows), test.port_range);
  }
  const rounds = roundCount(flows);
  // A server waits for every round before its own, unless it is started just before its round.
  // iperf3 caps --idle-timeout at a day.
  const waited = serversPerRound ? 1 : rounds;
  const idleTimeout = Math.ceil(Math.min(86_400, waited * (test.duration + ROUND_OVERHEAD_S) + collectWaitS + 60));
  return { processes, flows, rounds, idleTimeout, refused, serversPerRound };
}

/**
 * Whether some host cannot keep every round's servers up at once: more servers than its port
 * range holds, or with its busiest round's clients more processes than its max_processes.
 * Started per round instead, a host needs only its busiest round's servers.
 */
export function needsServersPerRound(hosts: HostConfig[], load: Map<string, HostLoad>, portRange: readonly [number, number]): boolean {
  return hosts.some((h) => {
    const l = load.get(h.name);
    if (!l || l.servers === l.roundServers) return false; // one round, or servers in one round only: nothing to gain
    return l.servers > rangeSize(portRange) || (!!h.max_processes && l.servers + l.clients > h.max_processes);
  });
}

/** What "auto" sizing needs of a host's hello. */
export interface AutoFacts {
  cpus: number[];
  max_processes: number | null;
  memory_free_bytes: number;
}

/** With several planes, each plane's pairs share the hosts' cores and ports. */
function resolveProcesses(facts: AutoFacts[], test: TestParams, planes: number): number {
  if (typeof test.processes === 'number') return test.processes;
  const auto = autoProcesses(facts.map((f) => ({ cpus: Math.floor(f.cpus.length / planes), maxProcesses: f.max_processes && Math.floor(f.max_processes / planes), freeMemory: f.memory_free_bytes / planes })), facts.length);
  return Math.max(1, Math.min(auto, Math.floor(rangeSize(test.port_range) / Math.max(1, peersPerHost(facts.length, test) * planes))));
}

/**
 * Hosts whose plan needs more iperf3 processes at once than their max_processes: every server
 * (they stay up for all rounds) plus the most clients of any one round; or, with servers started
 * per round, the most of any one round.
 */
function overLimit(hosts: HostConfig[], load: Map<string, HostLoad>, serversPerRound: boolean): { host: string; message: string }[] {
  const out: { host: string; message: string }[] = [];
  for (const h of hosts) {
    const l = load.get(h.name);
    if (!h.max_processes || !l) continue;
    const { servers, clients } = atOnce(l, serversPerRound);
    const need = servers + clients;
    if (need > h.max_processes) {
      out.push({ host: h.name, message: `the plan needs ${need} iperf3 processes at once on this host (${servers} servers, ${need - servers} clients), above its max_processes ${h.max_processes}; raise it, or lower processes` });
    }
  }
  return out;
}

/** What one host runs: over the run, and at most in one round. */
export interface HostLoad {
  /** Servers over all rounds (all up at once unless started per round). */
  servers: number;
  /** Clients of its busiest round. */
  clients: number;
  /** Servers of its busiest round for servers. */
  roundServers: number;
  /** Servers and clients of its busiest round, and that round's servers. */
  roundPeak: number;
  roundPeakServers: number;
}

/** The most a host runs at once: all servers and a round's clients, or, started per round, its busiest round. */
export function atOnce(l: HostLoad, serversPerRound: boolean): { servers: number; clients: number } {
  return serversPerRound ? { servers: l.roundPeakServers, clients: l.roundPeak - l.roundPeakServers } : { servers: l.servers, clients: l.clients };
}

/** What each host runs, in one pass over the flows, for any number of hosts. */
export function processesAtOnce(flows: Flow[]): Map<string, HostLoad> {
  const perRound = new Map<string, Map<number, { s: number; c: number }>>();
  const at = (host: string, round: number) => {
    const rounds = perRound.get(host) ?? perRound.set(host, new Map()).get(host)!;
    return rounds.get(round) ?? rounds.set(round, { s: 0, c: 0 }).get(round)!;
  };
  for (const f of flows) {
    at(f.server.name, f.round).s++;
    at(f.client.name, f.round).c++;
  }
  const out = new Map<string, HostLoad>();
  for (const [h, rounds] of perRound) {
    const l: HostLoad = { servers: 0, clients: 0, roundServers: 0, roundPeak: 0, roundPeakServers: 0 };
    for (const { s, c } of rounds.values()) {
      l.servers += s;
      l.clients = Math.max(l.clients, c);
      l.roundServers = Math.max(l.roundServers, s);
      if (s + c > l.roundPeak) [l.roundPeak, l.roundPeakServers] = [s + c, s];
    }
    out.set(h, l);
  }
  return out;
}

/**
 * Before connecting: a port range that cannot hold one host's servers of one round (when it
 * cannot hold every round's, they are started per round), as a message naming the fix, or null.
 */
export function portRangeProblem(test: TestParams, hostCount: number, planes = 1): string | null {
  const k = test.processes === 'auto' ? 1 : test.processes;
  const peers = peersPerRound(hostCount, test);
  const need = k * peers * planes;
  const have = rangeSize(test.port_range);
  if (need <= have) return null;
  const [lo, hi] = test.port_range;
  const onPlanes = planes > 1 ? ` × ${planes} planes` : '';
  return `test.port_range: "${lo}-${hi}" holds ${have} ports, but each host runs ${need} iperf3 servers (${k} per peer × ${peers} peers${onPlanes}); widen it to at least ${need} ports`;
}

/** Ports in an inclusive range. */
export function rangeSize(range: readonly [number, number]): number {
  return range[1] - range[0] + 1;
}
