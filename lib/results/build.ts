/**
 * Assemble the four-level results document (run -> source -> destination -> instance) from what
 * the daemons returned. Pure: no I/O, so it is easy to test and to reuse on partial data.
 */
import type { TestParams } from '../shared/options.js';
import type { InstanceRecord, IperfOptions } from '../protocol/messages.js';
import type { ErrorCode } from '../shared/errors.js';
import { iperfError } from '../shared/iperf-json.js';
import { OPTION_LIST } from '../shared/options.js';
import { DEFAULT_PLANE } from '../shared/planes.js';
import { measured, NO_PROTOCOL_METRICS, pairSummary } from './pair-summary.js';
import { applyVerdicts } from './verdict/apply.js';
import { defaultThresholds, Thresholds } from './verdict/thresholds.js';
import { clientMetrics, emptyMetrics, iperfVersionOf, localPort } from './metrics.js';
import { commonWindow, inWindow, realSpan, spread } from './window.js';
import { hostConnections, ratio } from './connections.js';
import {
  EndpointResult,
  ErrorInfo,
  HostResult,
  InstanceResult,
  PairResult,
  PairStatus,
  RESULTS_FORMAT,
  ResultsDocument,
  InstanceStatus,
  RoundResult,
  RunParameters,
  RunSummary,
} from './types.js';

/**
 * What the results need of one planned flow (an iperf3 client/server pair): lib/mesh/plan.ts's
 * Flow is one. Declared here so that results depend on no module of the run.
 */
export interface PlannedFlow {
  /** "src>dst#k". */
  id: string;
  src: { name: string };
  dst: { name: string };
  instance: number;
  /** The host that runs the client, and the one that runs the server. */
  client: { name: string };
  server: { name: string };
  round: number;
  /** The plane it ran on and the addresses bound there (absent in journals of older runs: "default"). */
  plane?: string;
  clientAddress?: string;
  serverAddress?: string;
  options: IperfOptions;
  /** Measured again alone after the mesh (--retest), because the pair failed. */
  retest?: boolean;
}

export interface RoundInfo {
  round: number;
  /** Controller clock, ms since the epoch. */
  scheduled_at: number;
  flows: number;
  /** Why a host's clients of this round have no records (start_clients or collect failed). */
  errors: Record<string, ErrorInfo>;
}

export interface BuildInput {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  interrupted: boolean;
  /** When the interrupt came (controller clock, ms since the epoch); null when none did. */
  interruptedAt: number | null;
  test: TestParams;
  /** The planes measured ("default" is every host's address). */
  planes?: string[];
  processes: number;
  transport: 'ssh' | 'local';
  hosts: HostResult[];
  /** What was planned (empty when the mesh never started). */
  flows: PlannedFlow[];
  rounds: RoundInfo[];
  /** Every instance record collected, clients and servers, from every host. */
  records: InstanceRecord[];
  /** Things worth knowing that failed nothing (a listener that threw, a journal write that failed). */
  warnings?: string[];
  /** What each pair must reach (default: defaultThresholds()). */
  thresholds?: Thresholds;
  /** Where the run's time went, phase -> ms. */
  timings?: Record<string, number>;
  /** Servers were started before each round, not all at the start (plan.ts, needsServersPerRound). */
  serversPerRound?: boolean;
}

const iso = (ms: number | null | undefined): string | null => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

export function buildResults(input: BuildInput): ResultsDocument {
  const byKey = new Map(input.records.map((r) => [`${r.role}:${r.id}`, r]));
  const roundErrors = new Map(input.rounds.map((r) => [r.round, r.errors]));
  const hostsByName = new Map(input.hosts.map((h) => [h.name, h]));
  // Host clock minus controller clock, for the hosts whose clock was measured.
  const offsets = new Map(input.hosts.filter((h) => h.clock_offset_ms !== undefined).map((h) => [h.name, h.clock_offset_ms!]));
  const flowsByPair = new Map<string, PlannedFlow[]>();
  const retests = new Map<string, PlannedFlow[]>();
  for (const f of input.flows) {
    if (f.retest) {
      const key = `${f.src.name}>${f.dst.name}`;
      retests.set(key, [...(retests.get(key) ?? []), f]);
      continue;
    }
    const key = `${f.src.name}>${f.dst.name}`;
    if (!flowsByPair.has(key)) flowsByPair.set(key, []);
    flowsByPair.get(key)!.push(f);
  }
  const build = (f: PlannedFlow, mirrored: boolean): InstanceResult => {
    const down = [f.src, f.dst].map((h) => hostsByName.get(h.name)!).find((h) => h.status !== 'ok');
    const blame = down?.error ?? roundErrors.get(f.round)?.[f.client.name];
    return instanceResult(f, mirrored, byKey.get(`client:${f.id}`), byKey.get(`server:${f.id}`), hostsByName, blame, offsets.get(f.client.name) ?? null, input.interruptedAt);
  };
  // Every flow's instance first, so that each round's common window is known before the pairs
  // are summed up (a pair says how much of its test fell inside it).
  const built = new Map(input.flows.map((f) => [f.id, build(f, false)]));
  // Re-test rounds ran one pair each after the mesh: they are no round of the mesh.
  const retestRounds = new Set(input.flows.filter((f) => f.retest).map((f) => f.round));
  const rounds = input.rounds
    .filter((r) => !retestRounds.has(r.round))
    .map((r) => roundResult(r, input.records, offsets, input.flows.filter((f) => f.round === r.round).map((f) => built.get(f.id)!), input.flows));
  const windows = new Map(rounds.map((r) => [r.round, r.window]));
  // A re-test ran alone: its window is its own.
  for (const i of built.values()) i.in_window = inWindow(i, retestRounds.has(i.round) ? commonWindow([i]) : (windows.get(i.round) ?? null));
  const instance = (f: PlannedFlow, mirrored: boolean): InstanceResult => {
    const own = built.get(f.id)!;
    return mirrored ? { ...build(f, true), in_window: own.in_window } : own;
  };
  const multiPlane = (input.planes ?? []).length > 1;
  const everyPairMeant = input.test.schedule !== 'sample' && input.test.schedule !== 'groups';
  const sources: ResultsDocument['sources'] = {};
  for (const src of input.hosts) {
    const destinations: Record<string, PairResult> = {};
    for (const dst of input.hosts) {
      if (dst.name === src.name) continue;
      const own = flowsByPair.get(`${src.name}>${dst.name}`) ?? [];
      // With bidir the other direction's flows measured this one too.
      const mirror = own.length === 0 && input.test.bidir ? (flowsByPair.get(`${dst.name}>${src.name}`) ?? []) : [];
      const down = [src, dst].find((h) => h.status !== 'ok');
      const planned = own.length ? own.map((f) => instance(f, false)) : mirror.map((f) => instance(f, true));
      const measured = planned.some((i) => i.client || i.server);
      // A host that never joined: its pairs were skipped. One lost mid-run: its pairs ran and failed.
      // Under sample and groups the plan chose pairs among the hosts that joined, so a host that
      // never did had none: listing all its N − 1 peers would count pairs no one meant to measure.
      if (down && !measured) {
        if (planned.length > 0 || everyPairMeant) destinations[dst.name] = skippedPair(down);
        continue;
      }
      // No plane in common (each lacks the other's): not a pair of this run.
      if (planned.length === 0 && input.flows.length > 0) continue;
      destinations[dst.name] = { summary: pairSummary(planned, multiPlane), instances: planned };
      const again = (retests.get(`${src.name}>${dst.name}`) ?? []).map((f) => instance(f, false));
      if (again.length) destinations[dst.name]!.retest = { summary: pairSummary(again, multiPlane), instances: again };
    }
    sources[src.name] = { destinations };
  }
  const thresholds = input.thresholds ?? defaultThresholds();
  const doc: ResultsDocument = {
    format: RESULTS_FORMAT,
    run: {
      id: input.runId,
      started_at: input.startedAt.toISOString(),
      finished_at: input.finishedAt.toISOString(),
      interrupted: input.interrupted,
      parameters: parameters(input),
      hosts: withConnections(input.hosts, input.flows, built),
      rounds,
      warnings: input.warnings ?? [],
      timings: { ...input.timings },
      coverage: coverage(input.hosts.length, sources),
    },
    summary: runSummary(input.hosts, sources, rounds),
    sources,
  };
  // Verdicts and suspects last: they read the whole document.
  return applyVerdicts(doc, thresholds);
}

/** Each host with its test connections counted, as client and as server (mesh and re-test). */
function withConnections(hosts: HostResult[], flows: PlannedFlow[], built: Map<string, InstanceResult>): HostResult[] {
  const counted = hostConnections(
    hosts.map((h) => h.name),
    flows.map((f) => ({ client: f.client.name, server: f.server.name, status: built.get(f.id)!.status })),
  );
  return hosts.map((h) => ({ ...h, connections: counted.get(h.name)! }));
}

/** How much of the full mesh the schedule measured (a sample measures part; pairs absent were not). */
export function coverage(hosts: number, sources: ResultsDocument['sources']): ResultsDocument['run']['coverage'] {
  const possible = hosts * (hosts - 1);
  const pairs = Object.values(sources).reduce((a, s) => a + Object.keys(s.destinations).length, 0);
  return { possible_pairs: possible, pairs, fraction: possible ? Math.round((pairs / possible) * 10000) / 10000 : 0 };
}

/** The run's [test] values, every option of the table (null where unset), and what was resolved. */
function parameters(input: BuildInput): RunParameters {
  const t = input.test as Record<string, unknown>;
  const options = Object.fromEntries(OPTION_LIST.map(([k, s]) => [k, t[k] ?? (s.kind === 'bool' ? false : null)]));
  return {
    ...options,
    processes: input.processes,
    processes_requested: input.test.processes,
    transport: input.transport,
    rounds: input.rounds.length,
    planes: input.planes ?? [DEFAULT_PLANE],
    thresholds: input.thresholds ?? defaultThresholds(),
    retest: input.flows.some((f) => f.retest),
    servers_per_round: input.serversPerRound ?? false,
  } as RunParameters;
}

/**
 * How far apart, in controller time, the round's tests really began and its servers were woken,
 * when they all ran at once, and what the mesh carried in it: every flow of one round ran at the
 * same time, flows of two rounds never.
 */
function roundResult(r: RoundInfo, records: InstanceRecord[], offsets: Map<string, number>, instances: InstanceResult[], flows: PlannedFlow[]): RoundResult {
  const starts = instances.map((i) => (i.started_at === null ? null : Date.parse(i.started_at))).filter((v): v is number => v !== null);
  const serverHost = new Map(flows.filter((f) => f.round === r.round).map((f) => [f.id, f.server.name]));
  const wakes = records
    .filter((rec) => rec.role === 'server' && serverHost.has(rec.id) && typeof rec.released_at === 'number')
    .map((rec) => rec.released_at! - (offsets.get(serverHost.get(rec.id)!) ?? 0));
  // Every direction counts (with bidir the reverse one is the same instance, listed under the reverse pair).
  const reverse = (i: InstanceResult) => (i.parameters.bidir ? (clientMetrics(i.iperf3, true).throughput_bps ?? 0) : 0);
  const aggregate = instances.filter(measured).reduce((a, i) => a + (i.metrics.throughput_bps ?? 0) + reverse(i), 0);
  return {
    round: r.round,
    scheduled_at: new Date(r.scheduled_at).toISOString(),
    flows: r.flows,
    start_spread_ms: spread(starts),
    release_spread_ms: spread(wakes),
    window: commonWindow(instances),
    aggregate_throughput_bps: aggregate,
  };
}

function skippedPair(down: HostResult): PairResult {
  const error: ErrorInfo = {
    code: down.error?.code ?? 'host_failed',
    message: `host ${down.name} could not take part: ${down.error?.message ?? 'failed'}`,
  };
  return {
    summary: { status: 'skipped', error, throughput_bps: 0, sent_bps: 0, ...NO_PROTOCOL_METRICS, instances: 0, instances_ok: 0, in_window: null },
    instances: [],
  };
}

function endpoint(r: InstanceRecord, host: string, address: string | undefined, hosts: Map<string, HostResult>, port: number | null): EndpointResult {
  return {
    host,
    address: address ?? hosts.get(host)?.address ?? r.address,
    daemon_pid: r.daemon_pid,
    pid: r.pid,
    cpu: r.cpu,
    port,
    exit_code: r.exit_code,
    signal: r.signal,
    stderr: r.stderr,
    iperf3_version: r.iperf3_version ?? iperfVersionOf(r.iperf3),
    started_at: iso(r.started_at),
    ended_at: iso(r.ended_at),
  };
}

function instanceResult(
  f: PlannedFlow,
  mirrored: boolean,
  client: InstanceRecord | undefined,
  server: InstanceRecord | undefined,
  hosts: Map<string, HostResult>,
  blame: ErrorInfo | undefined,
  offset: number | null,
  interruptedAt: number | null,
): InstanceResult {
  // The interrupt in the client host's clock.
  const stoppedAt = interruptedAt === null ? null : interruptedAt + (offset ?? 0);
  const result = outcome(client, server, blame, stoppedAt);
  const metrics = client ? clientMetrics(client.iperf3, mirrored) : emptyMetrics();
  const span = realSpan(client, offset);
  // Stopped before its end (an interrupt, or killed for running over): iperf3 printed its
  // intervals but no end-of-test summary from the receiver; what arrived is counted from the
  // intervals (the server's when it has them).
  if ((result.status === 'interrupted' || result.error?.code === 'timeout') && !metrics.throughput_bps) {
    metrics.throughput_bps = intervalRate(mirrored ? null : server?.iperf3) ?? intervalRate(client?.iperf3);
  }
  if (result.status === 'ok' && metrics.throughput_bps === null) {
    Object.assign(result, { status: 'failed', error: { code: 'iperf3', message: 'iperf3 printed no end-of-test summary' } });
  }
  return {
    instance: f.instance,
    round: f.round,
    plane: f.plane ?? DEFAULT_PLANE,
    bidir_of: mirrored ? f.id : null,
    parameters: f.options,
    // The host asked for it in its own clock; report it in the controller's.
    scheduled_at: iso(typeof client?.scheduled_at === 'number' && offset !== null ? client.scheduled_at - offset : null),
    clock_offset_ms: offset,
    status: result.status,
    // When a host of the pair failed, that is the reason, whatever iperf3 said about it.
    error: result.error && blame ? blame : result.error,
    started_at: iso(span.start),
    ended_at: iso(span.end),
    in_window: null,
    client: client ? endpoint(client, f.client.name, f.clientAddress, hosts, localPort(client.iperf3)) : null,
    server: server ? { ...endpoint(server, f.server.name, f.serverAddress, hosts, server.port), iperf3: mirrored ? null : server.iperf3 } : null,
    metrics,
    // The document is kept once, under the direction that ran it.
    iperf3: mirrored ? null : (client?.iperf3 ?? null),
  };
}

/**
 * An instance is ok only when its client exited cleanly with a complete, error-free result;
 * interrupted when it was still running at the interrupt and did not finish (stopped itself, or
 * its server was stopped first): its measurement until then is kept.
 */
function outcome(
  client: InstanceRecord | undefined,
  server: InstanceRecord | undefined,
  blame: ErrorInfo | undefined,
  stoppedAt: number | null,
): { status: InstanceStatus; error: ErrorInfo | null } {
  const fail = (code: ErrorCode, message: string) => ({ status: 'failed' as const, error: { code, message } });
  if (!client) {
    if (blame) return { status: 'failed', error: blame };
    return server ? fail('no_client', 'the client was never started') : fail('no_server', 'no server was started for this instance');
  }
  if (client.timed_out) {
    return fail('timeout', `iperf3 client still ran well past its ${client.argv[client.argv.indexOf('-t') + 1]} s duration; killed. ${client.stderr.trim()}`.trim());
  }
  if (client.state === 'running') return fail('timeout', 'the client was still running when results were collected');
  const err = iperfError(client.iperf3);
  const cut = stoppedAt !== null && client.ended_at !== null && client.ended_at >= stoppedAt;
  if (cut && (err || client.signal || client.exit_code !== 0)) {
    return { status: 'interrupted', error: { code: 'interrupted', message: `stopped by the interrupt; measured until then${err ? ` (iperf3: ${err})` : ''}` } };
  }
  if (err) return fail('iperf3', err);
  if (client.exit_code !== 0) {
    return fail('iperf3', `iperf3 exited with ${client.signal ?? client.exit_code}: ${client.stderr.trim() || 'no message'}`);
  }
  return { status: 'ok', error: null };
}

/** Bits per second over a document's intervals (sum of bytes over sum of seconds), or null. */
function intervalRate(doc: unknown): number | null {
  const intervals = (doc as { intervals?: { sum?: { bytes?: unknown; seconds?: unknown } }[] } | null)?.intervals;
  if (!Array.isArray(intervals)) return null;
  let bytes = 0;
  let seconds = 0;
  for (const i of intervals) {
    if (typeof i?.sum?.bytes !== 'number' || typeof i.sum.seconds !== 'number') continue;
    bytes += i.sum.bytes;
    seconds += i.sum.seconds;
  }
  return seconds > 0 ? (bytes * 8) / seconds : null;
}

function runSummary(hosts: HostResult[], sources: ResultsDocument['sources'], rounds: RoundResult[]): RunSummary {
  const pairs = Object.values(sources).flatMap((s) => Object.values(s.destinations));
  const count = (st: PairStatus) => pairs.filter((p) => p.summary.status === st).length;
  const instances = pairs.flatMap((p) => p.instances);
  const instancesOk = instances.filter((i) => i.status === 'ok').length;
  const measured = pairs.length - count('skipped');
  const spreads = rounds.map((r) => r.start_spread_ms).filter((v): v is number => v !== null);
  return {
    hosts: hosts.length,
    hosts_ok: hosts.filter((h) => h.status === 'ok').length,
    hosts_failed: hosts.filter((h) => h.status !== 'ok').length,
    pairs: pairs.length,
    pairs_ok: count('ok'),
    pairs_partial: count('partial'),
    pairs_failed: count('failed'),
    pairs_skipped: count('skipped'),
    pairs_interrupted: count('interrupted'),
    pairs_measured: measured,
    instances: instances.length,
    instances_ok: instancesOk,
    instances_failed: instances.filter((i) => i.status === 'failed').length,
    instances_interrupted: instances.filter((i) => i.status === 'interrupted').length,
    // The most the mesh carried at once: the busiest round (under "all", the only one).
    aggregate_throughput_bps: Math.max(0, ...rounds.map((r) => r.aggregate_throughput_bps)),
    total_throughput_bps: pairs.reduce((a, p) => a + p.summary.throughput_bps, 0),
    instance_success_rate: ratio(instancesOk, instances.length),
    pair_success_rate: ratio(count('ok'), measured),
    host_failure_rate: ratio(hosts.filter((h) => h.status !== 'ok').length, hosts.length) ?? 0,
    start_spread_ms: spreads.length ? Math.max(...spreads) : null,
    // Filled in by buildResults once every pair is judged.
    pairs_pass: 0,
    pairs_fail: 0,
    median_pair_throughput_bps: null,
    suspects: [],
  };
}
