/**
 * checkCluster (meshperf check): the preflight users run before a long test, in seconds. Every
 * host is connected and said hello to (runtime, iperf3), its clock measured, its free ports
 * counted; each daemon opens a plain listener on its data addresses and connects to every
 * peer's on every plane it shares (never to an iperf3 server); MTUs are compared per plane; and
 * what bites at size is warned about: a port range too small for the plan, a neighbour table
 * smaller than the peers, sshd's MaxStartups below ssh.concurrency.
 */
import { PROBE_TIMEOUT_MS, probeWaitMs, RPC_TIMEOUT_MS } from '../protocol/timeouts.js';
import type { HostConfig } from '../inventory/types.js';
import type { PreflightResult, ProbeResult } from '../protocol/messages.js';
import type { HostInterface } from '../results/types.js';
import type { ErrorInfo } from '../shared/errors.js';
import { stopwatch } from '../shared/stopwatch.js';
import { guardListener } from './events.js';
import { mtuWarnings, namesOf, testInterfaces } from './interfaces.js';
import { asError, connectAll, newRunState, readInterfaces, RunState } from './phases.js';
import { planeAddress, planeMembers } from './planes.js';
import { effectiveTest, pickTransport, RunOptions } from './run.js';
import { peersPerRound } from './schedules.js';

export type CheckOptions = Pick<RunOptions, 'inventory' | 'test' | 'transport' | 'planes' | 'onEvent' | 'signal'>;

export interface HostCheck {
  name: string;
  status: 'ok' | 'failed';
  error: ErrorInfo | null;
  node_version?: string;
  iperf3_version?: string | null;
  clock_offset_ms?: number;
  /** Free ports of port_range, and how many the plan's servers need on this host (one round's, at least). */
  free_ports?: number;
  ports_needed: number;
  gc_thresh3?: number | null;
  max_startups?: number | null;
  interfaces?: HostInterface[];
  /** Its connects to every peer's listener on the planes they share. */
  reach: { ok: number; total: number; failed: { peer: string; plane: string; error: string }[] };
  warnings: string[];
}

export interface CheckReport {
  format: 'meshperf.check/v1';
  /** Every host answered, every pair connected, nothing to warn about. */
  ok: boolean;
  planes: string[];
  hosts: HostCheck[];
  warnings: string[];
  timings: Record<string, number>;
}

export async function checkCluster(opts: CheckOptions): Promise<CheckReport> {
  const { inventory } = opts;
  const { test, planes } = effectiveTest(opts as RunOptions);
  const lap = stopwatch();
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const failures = new Map<string, ErrorInfo>();
  const run = newRunState(
    { inventory, test, transport: pickTransport(opts.transport ?? inventory.transport), signal: opts.signal, emit: guardListener(opts.onEvent, (m) => warnings.push(m)), journal: null },
    failures,
  );
  const live = () => inventory.hosts.filter((h) => run.isUp(h.name));
  const pre = new Map<string, PreflightResult>();
  const probes = new Map<string, { peer: string; plane: string; result: ProbeResult['results'][number] }[]>();
  const found = new Map<string, HostInterface[]>();
  try {
    await connectAll(run);
    timings.connect = lap();
    const facts = await readInterfaces(run, live(), (h) => namesOf(h, planes));
    for (const h of live()) found.set(h.name, testInterfaces(h, planes, facts.get(h.name)?.interfaces ?? [], facts.get(h.name)?.resolved).interfaces);
    warnings.push(...mtuWarnings([...found].map(([name, interfaces]) => ({ name, interfaces }))));
    await Promise.all(live().map((h) => run.sessions.get(h.name)!.measureClock().catch((e) => run.fail(h.name, asError(e, 'clock')))));
    timings.clock = lap();
    // Each host listens on its data address of every plane (what a name resolved to there).
    const addressOn = (h: HostConfig, plane: string) => found.get(h.name)?.find((i) => i.plane === plane)?.ip ?? planeAddress(h, plane);
    const listenOn = (h: HostConfig) => [...new Set(planes.map((p) => addressOn(h, p)).filter((a): a is string => a !== undefined))];
    await Promise.all(
      live().map(async (h) => {
        const r = await run.sessions.get(h.name)!.call('preflight', { listen: listenOn(h) }, RPC_TIMEOUT_MS).catch((e) => run.fail(h.name, asError(e, 'servers')));
        if (r) pre.set(h.name, r);
      }),
    );
    timings.listen = lap();
    await Promise.all(live().map(async (h) => probes.set(h.name, await probePeers(run, h, planes, pre, addressOn))));
    timings.probe = lap();
  } finally {
    await Promise.all([...run.sessions.values()].map((s) => s.close().catch(() => {})));
    timings.disconnect = lap();
  }
  warnings.push(...run.stderr.warnings());
  // Hosts on each plane, counted once (each host's peers and ports come from them).
  const planeSize = new Map(planes.map((p) => [p, planeMembers(inventory.hosts, p).length]));
  const hosts = inventory.hosts.map((h) => hostCheck(run, h, failures.get(h.name), pre.get(h.name), probes.get(h.name) ?? [], found.get(h.name), planes));
  return { format: 'meshperf.check/v1', ok: hosts.every((h) => h.status === 'ok' && h.reach.ok === h.reach.total && !h.warnings.length) && !warnings.length, planes, hosts, warnings, timings };

  function hostCheck(run: RunState, h: HostConfig, error: ErrorInfo | undefined, p: PreflightResult | undefined, tried: { peer: string; plane: string; result: ProbeResult['results'][number] }[], nics: HostInterface[] | undefined, planes: string[]): HostCheck {
    const s = run.sessions.get(h.name);
    const peers = planes.reduce((a, plane) => a + Math.max(0, planeSize.get(plane)! - (planeAddress(h, plane) ? 1 : 0)), 0);
    // A run starts servers round by round when all of them do not fit: one round's is the least it needs.
    const needed = (typeof test.processes === 'number' ? test.processes : 1) * planes.reduce((a, plane) => a + (planeAddress(h, plane) ? peersPerRound(planeSize.get(plane)!, test) : 0), 0);
    const failed = tried.filter((t) => !t.result.ok).map((t) => ({ peer: t.peer, plane: t.plane, error: t.result.error ?? 'failed' }));
    const warn: string[] = [];
    if (p && p.free_ports < needed) warn.push(`${p.free_ports} free ports in port_range ${test.port_range.join('-')}, the plan's servers need ${needed}: widen port_range`);
    if (p?.gc_thresh3 != null && p.gc_thresh3 < peers) warn.push(`its neighbour table holds ${p.gc_thresh3} entries (net.ipv4.neigh.default.gc_thresh3), fewer than the ${peers} peers it talks to; if they share its L2 segment, raise gc_thresh1/2/3`);
    if (p?.max_startups != null && p.max_startups < inventory.ssh.concurrency) warn.push(`sshd's MaxStartups is ${p.max_startups}, below ssh.concurrency ${inventory.ssh.concurrency}: connects beyond it are dropped; raise MaxStartups or lower ssh.concurrency`);
    return {
      name: h.name,
      status: error || !s ? 'failed' : 'ok',
      error: error ?? null,
      ...(s ? { node_version: s.hello.node_version, iperf3_version: s.hello.iperf3_version, clock_offset_ms: s.clock.offset_ms } : {}),
      ...(p ? { free_ports: p.free_ports, gc_thresh3: p.gc_thresh3, max_startups: p.max_startups } : {}),
      ports_needed: needed,
      ...(nics ? { interfaces: nics } : {}),
      reach: { ok: tried.length - failed.length, total: tried.length, failed },
      warnings: warn,
    };
  }
}

/** Host h connects to every peer's listener on each plane both are on, from its own address there. */
async function probePeers(run: RunState, h: HostConfig, planes: string[], pre: Map<string, PreflightResult>, addressOn: (h: HostConfig, plane: string) => string | undefined) {
  const targets: { peer: string; plane: string; address: string; port: number; bind: string }[] = [];
  for (const plane of planes) {
    const bind = addressOn(h, plane);
    if (!bind) continue;
    for (const { host: q } of planeMembers(run.inventory.hosts, plane)) {
      const l = q.name === h.name ? undefined : pre.get(q.name)?.listeners.find((x) => x.address === addressOn(q, plane));
      if (l) targets.push({ peer: q.name, plane, address: l.address, port: l.port, bind });
    }
  }
  if (!targets.length) return [];
  const r = await run.sessions.get(h.name)!.call('probe', { targets: targets.map(({ address, port, bind }) => ({ address, port, bind })), timeout_ms: PROBE_TIMEOUT_MS }, probeWaitMs(targets.length)).catch(() => null);
  return targets.map((t, i) => ({ peer: t.peer, plane: t.plane, result: r?.results[i] ?? { address: t.address, port: t.port, ok: false, ms: 0, error: 'the probe request failed' } }));
}
