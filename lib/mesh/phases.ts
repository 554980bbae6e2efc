/**
 * The phases of one run, in order: connect, start servers, run each round (clients released at
 * one instant, the test waited out, the round collected), and after an interrupt, stop and keep
 * what finished. runMesh (run.ts) strings them together; they share one RunState.
 */
import type { HostConfig, Inventory, TestParams } from '../inventory/types.js';
import type { InstanceRecord, InterfacesResult } from '../protocol/messages.js';
import { COLLECT_WAIT_MS, releaseLeadMs, releaseWaitMs, RPC_TIMEOUT_MS, rpcTimeoutMs } from '../protocol/timeouts.js';
import type { RoundInfo } from '../results/build.js';
import type { Journal } from '../results/journal.js';
import { RpcError } from '../rpc/client.js';
import { ErrorCode, ErrorInfo, MeshperfError, RPC_ERROR_WORDS } from '../shared/errors.js';
import type { Transport } from '../transport/types.js';
import { supports } from '../shared/versions.js';
import type { MeshEvent } from './events.js';
import { Flow, planClients, planServers } from './plan.js';
import { ConnectQueue } from './connect-queue.js';
import { HostSession } from './session.js';
import { StderrLimit } from './stderr-limit.js';
import { stopwatch } from '../shared/stopwatch.js';

/** What the phases of one run share; runMesh owns it. */
export interface RunState {
  inventory: Inventory;
  test: TestParams;
  transport: Transport;
  signal?: AbortSignal;
  /** The caller's listener, guarded: it never throws. */
  emit: (event: MeshEvent) => void;
  /** Where what is collected is written as it arrives (with `out`). */
  journal: Journal | null;
  sessions: Map<string, HostSession>;
  /** The plan's flows, once planned. */
  flows: Flow[];
  /** Every instance record collected so far (the rounds' and, after an interrupt, the rest). */
  records: InstanceRecord[];
  /** What each host's live clients carry now (iperf3 >= 3.17), for progress. */
  latestBps: Map<string, number>;
  /** Each client's live intervals as `interval` events (RunOptions.liveIntervals); else only each host's sum. */
  instanceIntervals: boolean;
  /** Each host's stderr lines, passed on up to a bound (stderr-limit.ts). */
  stderr: StderrLimit;
  /** Connected and not failed. */
  isUp(host: string): boolean;
  /** Mark a host failed (once) and say so. */
  fail(host: string, error: ErrorInfo): void;
}

/**
 * A run's shared state, for runMesh and checkCluster alike. `failures` gets each failed host's
 * first error; `onFailed` runs once per failed host, before its host-failed event.
 */
export function newRunState(
  base: Pick<RunState, 'inventory' | 'test' | 'transport' | 'signal' | 'emit' | 'journal'> & Partial<Pick<RunState, 'instanceIntervals'>>,
  failures: Map<string, ErrorInfo>,
  onFailed?: (host: string, error: ErrorInfo) => void,
): RunState {
  const run: RunState = {
    instanceIntervals: false,
    ...base,
    sessions: new Map(),
    flows: [],
    records: [],
    latestBps: new Map(),
    stderr: new StderrLimit(base.emit),
    isUp: (name) => run.sessions.has(name) && !failures.has(name),
    fail(host, error) {
      if (failures.has(host)) return;
      failures.set(host, error);
      onFailed?.(host, error);
      run.emit({ type: 'host-failed', host, error });
    },
  };
  return run;
}

/** Once its client has ended, a server has this long to write its own result and exit. */
const SERVER_SETTLE_MS = 2000;

/**
 * What went wrong, in the results' words: a HostError keeps its code, the daemon's own refusals
 * (no free port, spawn failed, ...) theirs, and anything else (a timeout, a closed connection)
 * is named after the step that failed.
 */
export function asError(err: unknown, step: ErrorCode): ErrorInfo {
  if (err instanceof MeshperfError) return err.toInfo();
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof RpcError) return { code: RPC_ERROR_WORDS[err.code] ?? step, message };
  return { code: step, message };
}

/** 1. Connect and hello, at most ssh.concurrency at once, fewer while that makes each slower (connect-queue.ts). */
export async function connectAll(run: RunState): Promise<void> {
  const { inventory, transport, sessions, fail, emit, latestBps, signal } = run;
  const queue = new ConnectQueue(inventory.ssh.concurrency);
  await Promise.all(
    inventory.hosts.map((host) =>
      queue.run(async (job) => {
        if (signal?.aborted) return fail(host.name, { code: 'interrupted', message: 'run interrupted before connecting' });
        emit({ type: 'host-connecting', host: host.name });
        try {
          const s = await HostSession.open({
            transport,
            host,
            ssh: inventory.ssh,
            options: { iperf3: host.iperf3, port_range: run.test.port_range },
            signal,
            onRetry: (attempt, err) => {
              queue.congested();
              emit({ type: 'host-retry', host: host.name, attempt, error: asError(err, 'unreachable') });
            },
            runtime: inventory.runtime,
            onRuntime: (bytes) => {
              job.unmeasured();
              emit({ type: 'host-runtime', host: host.name, bytes });
            },
            onStderr: (line) => run.stderr.line(host.name, line),
            onHostInterval: (p) => {
              latestBps.set(host.name, p.bits_per_second);
              for (const i of p.intervals ?? []) emit({ type: 'interval', id: i.id, end_s: i.end, bits_per_second: i.bits_per_second });
            },
          });
          sessions.set(host.name, s);
          s.onLost = (why) => {
            fail(host.name, { code: 'host_lost', message: why });
            dropPeer(run, host.name);
          };
          s.onSlow = (silentMs, lostAfterMs) => emit({ type: 'host-slow', host: host.name, silent_s: Math.round(silentMs / 1000), lost_after_s: Math.round(lostAfterMs / 1000) });
          emit({ type: 'host-ready', host: host.name, hello: s.hello });
        } catch (err) {
          fail(host.name, asError(err, 'unreachable'));
        }
      }),
    ),
  );
}

/**
 * Each host's interfaces and byte counters. A host that cannot say (an older daemon) is left
 * out: the facts are worth having, never worth failing a host over.
 */
export async function readInterfaces(run: RunState, hosts: HostConfig[], resolve: (h: HostConfig) => string[] = () => []): Promise<Map<string, InterfacesResult>> {
  const out = new Map<string, InterfacesResult>();
  await Promise.all(
    hosts.map(async (h) => {
      const names = resolve(h);
      const r = await run.sessions.get(h.name)?.call('interfaces', names.length ? { resolve: names } : {}, RPC_TIMEOUT_MS).catch(() => null);
      if (r) out.set(h.name, r);
    }),
  );
  return out;
}

/**
 * A host is lost: its peers stop their instances with it at once, rather than wait for their
 * clients to be found hung (which on a busy host can take long: slow is not hung).
 */
function dropPeer(run: RunState, lost: string): void {
  const ids = run.flows.filter((f) => f.client.name === lost || f.server.name === lost).map((f) => f.id);
  if (ids.length === 0) return;
  for (const [name, s] of run.sessions) if (name !== lost && !s.lost) void s.call('stop', { ids }, 5000).catch(() => {});
}

/** 2. Every server of every round, on every host; a host whose servers cannot start is out. */
export async function startServers(run: RunState, hosts: HostConfig[], flows: Flow[], idleTimeout: number): Promise<Map<string, number>> {
  const { sessions, fail, emit } = run;
  const plan = planServers(hosts, flows);
  const ports = new Map<string, number>();
  await Promise.all(
    hosts.map(async (h) => {
      const servers = plan.get(h.name)!;
      if (servers.length === 0) return;
      try {
        const lap = stopwatch();
        // Held stopped once listening: each round's instant wakes its own (runRound).
        const res = await sessions.get(h.name)!.call('start_servers', { servers, idle_timeout: Math.ceil(idleTimeout), hold: true }, rpcTimeoutMs(servers.length));
        sessions.get(h.name)!.timings.servers = (sessions.get(h.name)!.timings.servers ?? 0) + lap();
        for (const s of res.servers) ports.set(s.id, s.port);
        emit({ type: 'servers-listening', host: h.name, count: res.servers.length });
      } catch (err) {
        fail(h.name, asError(err, 'servers'));
      }
    }),
  );
  return ports;
}

/**
 * 3. One round, in two steps so that its tests start together at any size. Its servers are held
 * stopped (startServers), and a stopped server's kernel still completes handshakes: so first every
 * client host starts its clients, which connect and wait, and says so; all the cost of creating
 * processes is paid then. Then the controller picks an instant that every host can meet (twice
 * the slowest round trip now, plus a margin) and each host, in its own clock, wakes its servers
 * at it with one signal. The test runs, and the round's instances are collected.
 */
export async function runRound(run: RunState, round: number, flows: Flow[], ports: Map<string, number>): Promise<RoundOutcome> {
  const { sessions, emit, latestBps, signal } = run;
  const records: InstanceRecord[] = [];
  const errors: Record<string, ErrorInfo> = {};
  const hosts = [...new Set(flows.flatMap((f) => [f.client, f.server]))];
  const plan = planClients(hosts, flows, ports);
  const clientHosts = hosts.filter((h) => plan.get(h.name)!.length > 0);
  // Each host's clients wait, connected, while the others are prepared: as long as the busiest may take.
  const releaseWait = releaseWaitMs(Math.max(0, ...clientHosts.map((h) => plan.get(h.name)!.length)));
  latestBps.clear();
  const lap = stopwatch();
  const timing: RoundTiming = { prepare: 0, lead: 0, test: 0, collect: 0 };
  await Promise.all(
    clientHosts.map(async (h) => {
      const s = sessions.get(h.name)!;
      const clients = plan.get(h.name)!;
      try {
        const live = supports(s.hello.iperf3_version, '--json-stream');
        await s.call('start_clients', { clients, live, release_within_ms: releaseWait, ...(live && run.instanceIntervals ? { intervals: true } : {}) }, rpcTimeoutMs(clients.length));
      } catch (err) {
        errors[h.name] = asError(err, 'start_clients');
      }
    }),
  );
  // Every host of the round is released: those that serve wake their servers, those whose
  // clients wait watch for their traffic's start.
  const live = hosts.filter((h) => run.isUp(h.name));
  const rtts = await Promise.all(live.map((h) => sessions.get(h.name)!.rttNow(RPC_TIMEOUT_MS)));
  const lead = releaseLeadMs(live.length, Math.max(0, ...rtts));
  timing.prepare = lap();
  const startAt = Date.now() + lead;
  emit({ type: 'round-scheduled', round, start_at: new Date(startAt).toISOString(), lead_ms: lead, hosts: live.map((h) => h.name), flows: flows.length });
  for (const h of hosts) sessions.get(h.name)!.testRunsUntil(startAt + run.test.duration * 1000);
  await Promise.all(
    live.map(async (h) => {
      const s = sessions.get(h.name)!;
      const servers = flows.filter((f) => f.server.name === h.name).map((f) => f.id);
      try {
        const res = await s.call('release', { start_at: Math.round(startAt + s.clock.offset_ms), ...(servers.length ? { servers } : {}) }, RPC_TIMEOUT_MS + lead);
        if (res.clients > 0) emit({ type: 'clients-started', host: h.name, count: res.clients, round });
      } catch (err) {
        errors[h.name] ??= asError(err, 'start_clients');
      }
    }),
  );
  await waitForTest(run, startAt);
  // From the release to the start instant, then the test itself.
  timing.lead = Math.round(lead);
  timing.test = Math.max(0, lap() - timing.lead);
  const info: RoundInfo = { round, scheduled_at: startAt, flows: flows.length, errors };
  // Interrupted: collectAll stops every host and collects what there is, this round included.
  if (signal?.aborted) return { info, records, timing };
  // Clients first, each host waiting for its own; then the servers, which end with their clients.
  // Meanwhile, once a second, who is still waited for.
  const ids = flows.map((f) => f.id);
  const waiting = new Set(hosts.map((h) => h.name));
  const plannedEnd = startAt + run.test.duration * 1000;
  const ticker = setInterval(() => emit({ type: 'collecting', waiting: [...waiting], overdue_s: Math.max(0, Math.round((Date.now() - plannedEnd) / 1000)) }), 1000);
  for (const [role, wait_ms] of [['client', COLLECT_WAIT_MS], ['server', SERVER_SETTLE_MS]] as const) {
    await Promise.all(
      hosts.map(async (h) => {
        const s = sessions.get(h.name)!;
        try {
          const res = await s.call('collect', { ids, role, wait_ms }, wait_ms + RPC_TIMEOUT_MS);
          records.push(...res.instances);
          run.journal?.records(round, role, h.name, res.instances);
          emit({ type: 'host-collected', host: h.name, role, records: res.instances });
        } catch (err) {
          errors[h.name] ??= asError(err, 'collect');
        }
        if (role === 'client') waiting.delete(h.name);
      }),
    );
  }
  clearInterval(ticker);
  timing.collect = lap();
  run.journal?.round(info);
  return { info, records, timing };
}

/** Where a round's time went, ms: clients prepared and held, the lead to the start instant, the test, the collect. */
export interface RoundTiming {
  prepare: number;
  lead: number;
  test: number;
  collect: number;
}

/** What one round brings back: its info (with its hosts' errors) and the records it collected. */
export interface RoundOutcome {
  info: RoundInfo;
  timing: RoundTiming;
  records: InstanceRecord[];
}

/** Wait out a round's test, reporting progress and sampling each host's health as it runs. */
async function waitForTest(run: RunState, startAt: number): Promise<void> {
  const { emit, latestBps, sessions, signal } = run;
  const { duration } = run.test;
  await new Promise<void>((resolve) => {
    let ticks = 0;
    const tick = setInterval(() => {
      const elapsed = Math.max(0, (Date.now() - startAt) / 1000);
      const bps = latestBps.size ? [...latestBps.values()].reduce((a, b) => a + b, 0) : null;
      emit({ type: 'test-running', elapsed_s: Math.min(elapsed, duration), duration_s: duration, throughput_bps: bps });
      if (++ticks % 2 === 1) for (const s of sessions.values()) if (!s.lost) s.sampleHealth().catch(() => {});
    }, 1000);
    const done = () => {
      clearInterval(tick);
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, startAt + duration * 1000 - Date.now());
    signal?.addEventListener('abort', done);
  });
}

/** 4. After an interrupt: stop one host's iperf3s (or wait for the stop already sent) and keep whatever they had. */
export async function collectHost(run: RunState, name: string, stopped?: Promise<unknown>): Promise<void> {
  const { sessions, records, emit } = run;
  const s = sessions.get(name);
  if (!s) return;
  try {
    await (stopped ?? s.call('stop', {}, 5000));
    const res = await s.call('collect', { wait_ms: 0 }, RPC_TIMEOUT_MS);
    // What the rounds already collected (read now: the other hosts' collects push theirs meanwhile).
    const have = new Set(records.map((r) => `${r.role}:${r.id}`));
    const fresh = res.instances.filter((r) => !have.has(`${r.role}:${r.id}`));
    records.push(...fresh);
    run.journal?.records(null, 'all', name, fresh);
    emit({ type: 'host-collected', host: name, role: 'all', records: fresh });
  } catch {
    // lost: its pairs say so
  }
}
