/**
 * runMesh: the whole run for a library user or the CLI. Connect to every host (a bounded queue),
 * start every server, measure each host's clock, then run the schedule's rounds: each round's
 * clients start at one instant on every host, run, and are collected. A host that fails is
 * recorded and the rest still run; whatever happens, every daemon is stopped and disconnected
 * before runMesh returns.
 */
import PQueue from 'p-queue';
import { randomBytes } from 'node:crypto';
import { InventoryError } from '../inventory/load.js';
import type { HostConfig, Inventory, TestParams } from '../inventory/types.js';
import { CLIENT_GRACE_MS, InstanceRecord } from '../protocol/messages.js';
import { buildResults, RoundInfo } from '../results/build.js';
import type { ErrorInfo, HostResult, ResultsDocument } from '../results/types.js';
import { localTransport } from '../transport/local.js';
import { sshTransport } from '../transport/ssh.js';
import { HostError, Transport } from '../transport/types.js';
import { versionAtLeast } from '../daemon/proc.js';
import type { MeshEventListener } from './events.js';
import { autoProcesses, Flow, planClients, planFlows, planServers, rangeSize, roundCount, serversPerHost } from './plan.js';
import { HostSession } from './session.js';

export interface RunOptions {
  inventory: Inventory;
  /** Overrides of the inventory's [test] table (what the CLI's flags set). */
  test?: Partial<TestParams>;
  /** "ssh" (default: the inventory's), "local", or your own Transport. */
  transport?: 'ssh' | 'local' | Transport;
  runId?: string;
  onEvent?: MeshEventListener;
  /** Abort to interrupt: every iperf3 is stopped, what finished is kept, results say interrupted. */
  signal?: AbortSignal;
}

/**
 * After a round's planned end, how long collect waits for its clients: the daemon kills a client
 * hung past its duration at CLIENT_GRACE_MS, so by then every instance has an outcome.
 */
const COLLECT_WAIT_MS = CLIENT_GRACE_MS + 2000;
const RPC_TIMEOUT_MS = 30_000;
/**
 * Lead before a synchronized start, beyond the slowest host's round trip: time for each daemon to
 * create its clients' processes (held stopped until the instant).
 */
const START_LEAD_MS = 200;
const START_LEAD_PER_CLIENT_MS = 5;
/** iperf3 --json-stream, for live progress. */
const LIVE_SINCE = '3.17';

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

function asError(err: unknown, fallbackCode: string): ErrorInfo {
  if (err instanceof HostError) return { code: err.code, message: err.message };
  return { code: fallbackCode, message: err instanceof Error ? err.message : String(err) };
}

/** Refuse, before connecting, a port range that cannot hold one host's servers. */
function checkPortRange(inventory: Inventory, processes: number | 'auto'): void {
  const k = processes === 'auto' ? 1 : processes;
  const need = serversPerHost(inventory.hosts.length, k);
  const have = rangeSize(inventory.test.port_range);
  if (need > have) {
    const [lo, hi] = inventory.test.port_range;
    throw new InventoryError(inventory.source ?? 'inventory', [
      `test.port_range: "${lo}-${hi}" holds ${have} ports, but each host runs ${need} iperf3 servers (${k} per peer × ${inventory.hosts.length - 1} peers); widen it to at least ${need} ports`,
    ]);
  }
}

/** The test parameters in force: the inventory's, then the caller's overrides. */
function effectiveTest(opts: RunOptions): TestParams {
  const test = { ...opts.inventory.test, ...stripUndefined(opts.test ?? {}) };
  if (test.reverse && test.bidir) throw new InventoryError('options', ['reverse and bidir exclude each other (bidir already measures both directions)']);
  return test;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export async function runMesh(opts: RunOptions): Promise<ResultsDocument> {
  const { inventory, signal } = opts;
  const emit: MeshEventListener = opts.onEvent ?? (() => {});
  const startedAt = new Date();
  const transport = pickTransport(opts.transport ?? inventory.transport);
  const test = effectiveTest(opts);
  checkPortRange(inventory, test.processes);
  const hostResults = new Map<string, HostResult>(
    inventory.hosts.map((h) => [h.name, { name: h.name, address: h.address, status: 'ok', error: null }]),
  );
  const fail = (host: string, error: ErrorInfo) => {
    if (hostResults.get(host)!.status === 'failed') return;
    Object.assign(hostResults.get(host)!, { status: 'failed', error });
    emit({ type: 'host-failed', host, error });
  };
  const sessions = new Map<string, HostSession>();
  const records: InstanceRecord[] = [];
  const clientErrors = new Map<string, ErrorInfo>();
  const rounds: RoundInfo[] = [];
  let processes = typeof test.processes === 'number' ? test.processes : 1;
  let flows: Flow[] = [];
  const isUp = (h: HostConfig) => sessions.has(h.name) && hostResults.get(h.name)!.status === 'ok';
  const live = () => inventory.hosts.filter(isUp);
  const latestBps = new Map<string, number>();

  try {
    // 1. Connect and hello, a bounded number of handshakes at once.
    await connectAll(inventory, transport, sessions, hostResults, fail, emit, latestBps, signal);
    if (test.processes === 'auto') {
      const facts = live().map((h) => sessions.get(h.name)!.hello);
      const auto = autoProcesses(facts.map((f) => ({ cpus: f.cpus.length, maxProcesses: f.max_processes, freeMemory: f.memory_free_bytes })), live().length);
      processes = Math.max(1, Math.min(auto, Math.floor(rangeSize(inventory.test.port_range) / Math.max(1, live().length - 1))));
    }
    // 2. Servers everywhere, for every round; a host whose servers cannot start is out.
    if (!signal?.aborted && live().length >= 2) {
      flows = planFlows(live(), processes, test);
      const over = overLimit(live(), flows);
      if (over.length) {
        for (const o of over) fail(o.host, { code: 'max_processes', message: o.message });
        flows = live().length >= 2 ? planFlows(live(), processes, test) : [];
      }
      const idle = roundCount(flows) * (test.duration + COLLECT_WAIT_MS / 1000) + 60;
      const ports = await startServers(live(), flows, sessions, idle, fail, emit);
      // 3. Clocks, then the rounds, each starting in sync on every host.
      await Promise.all(live().map((h) => sessions.get(h.name)!.measureClock().catch((e) => fail(h.name, asError(e, 'clock')))));
      for (let r = 0; r < roundCount(flows) && !signal?.aborted; r++) {
        const round = flows.filter((f) => f.round === r && isUp(f.client) && isUp(f.server));
        rounds.push(await runRound(r, round, ports, test, sessions, clientErrors, records, emit, latestBps, signal));
      }
    }
    // 4. After an interrupt: stop first, keep what finished.
    if (signal?.aborted) await collectAll(sessions, records, emit);
  } finally {
    // 5. Stop and disconnect, whatever happened above: nothing stays running on a host.
    await Promise.all([...sessions.values()].map((s) => s.close().catch(() => {})));
  }
  for (const [name, s] of sessions) {
    if (s.lost) fail(name, { code: 'host_lost', message: s.lost });
    Object.assign(hostResults.get(name)!, { clock_offset_ms: s.clock.offset_ms, clock_rtt_ms: s.clock.rtt_ms, rpc_latency_ms: s.latency(), health: s.health });
  }

  const doc = buildResults({
    runId: opts.runId ?? newRunId(startedAt),
    startedAt,
    finishedAt: new Date(),
    interrupted: signal?.aborted ?? false,
    test,
    processes,
    transport: transport.name,
    hosts: [...hostResults.values()],
    flows,
    rounds,
    records,
    clientErrors,
  });
  emit({ type: 'done', summary: doc.summary });
  return doc;
}

/**
 * Hosts whose plan needs more iperf3 processes at once than their max_processes: every server
 * (they stay up for all rounds) plus the most clients of any one round.
 */
function overLimit(hosts: HostConfig[], flows: Flow[]): { host: string; message: string }[] {
  const out: { host: string; message: string }[] = [];
  for (const h of hosts) {
    if (!h.max_processes) continue;
    const servers = flows.filter((f) => f.server.name === h.name).length;
    const perRound = new Map<number, number>();
    for (const f of flows) if (f.client.name === h.name) perRound.set(f.round, (perRound.get(f.round) ?? 0) + 1);
    const need = servers + Math.max(0, ...perRound.values());
    if (need > h.max_processes) {
      out.push({ host: h.name, message: `the plan needs ${need} iperf3 processes at once on this host (${servers} servers, ${need - servers} clients), above its max_processes ${h.max_processes}; raise it, or lower processes` });
    }
  }
  return out;
}

function pickTransport(t: 'ssh' | 'local' | Transport): Transport {
  if (t === 'ssh') return sshTransport;
  if (t === 'local') return localTransport;
  return t;
}

async function connectAll(
  inventory: Inventory,
  transport: Transport,
  sessions: Map<string, HostSession>,
  hostResults: Map<string, HostResult>,
  fail: (host: string, e: ErrorInfo) => void,
  emit: MeshEventListener,
  latestBps: Map<string, number>,
  signal?: AbortSignal,
): Promise<void> {
  const queue = new PQueue({ concurrency: inventory.ssh.concurrency });
  await Promise.all(
    inventory.hosts.map((host) =>
      queue.add(async () => {
        if (signal?.aborted) return fail(host.name, { code: 'interrupted', message: 'run interrupted before connecting' });
        emit({ type: 'host-connecting', host: host.name });
        try {
          const s = await HostSession.open({
            transport,
            host,
            ssh: inventory.ssh,
            options: { iperf3: host.iperf3, port_range: inventory.test.port_range },
            signal,
            onRetry: (attempt, err) => emit({ type: 'host-retry', host: host.name, attempt, error: asError(err, 'unreachable') }),
            onInterval: (p) => {
              latestBps.set(p.id, p.bits_per_second);
              emit({ type: 'interval', id: p.id, end_s: p.end, bits_per_second: p.bits_per_second });
            },
          });
          sessions.set(host.name, s);
          const { protocol: _p, time_ms: _t, ...facts } = s.hello;
          Object.assign(hostResults.get(host.name)!, facts);
          emit({ type: 'host-ready', host: host.name, hello: s.hello });
        } catch (err) {
          fail(host.name, asError(err, 'unreachable'));
        }
      }),
    ),
  );
}

async function startServers(
  hosts: HostConfig[],
  flows: Flow[],
  sessions: Map<string, HostSession>,
  idleTimeout: number,
  fail: (host: string, e: ErrorInfo) => void,
  emit: MeshEventListener,
): Promise<Map<string, number>> {
  const plan = planServers(hosts, flows);
  const ports = new Map<string, number>();
  await Promise.all(
    hosts.map(async (h) => {
      const servers = plan.get(h.name)!;
      if (servers.length === 0) return;
      try {
        const res = await sessions.get(h.name)!.call('start_servers', { servers, idle_timeout: Math.ceil(idleTimeout) }, RPC_TIMEOUT_MS);
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
 * One round: every client host is told to start its clients at the same instant (translated into
 * its own clock), the test runs, and the round's instances are collected from every host.
 */
async function runRound(
  round: number,
  flows: Flow[],
  ports: Map<string, number>,
  test: TestParams,
  sessions: Map<string, HostSession>,
  clientErrors: Map<string, ErrorInfo>,
  records: InstanceRecord[],
  emit: MeshEventListener,
  latestBps: Map<string, number>,
  signal?: AbortSignal,
): Promise<RoundInfo> {
  const hosts = [...new Set(flows.flatMap((f) => [f.client, f.server]))];
  const plan = planClients(hosts, flows, ports);
  const clientHosts = hosts.filter((h) => plan.get(h.name)!.length > 0);
  const mostClients = Math.max(0, ...clientHosts.map((h) => plan.get(h.name)!.length));
  const lead = Math.max(...clientHosts.map((h) => sessions.get(h.name)!.clock.rtt_ms), 0) * 2 + START_LEAD_MS + START_LEAD_PER_CLIENT_MS * mostClients;
  const startAt = Date.now() + lead;
  latestBps.clear();
  await Promise.all(
    clientHosts.map(async (h) => {
      const s = sessions.get(h.name)!;
      const clients = plan.get(h.name)!;
      try {
        const live = versionAtLeast(s.hello.iperf3_version, LIVE_SINCE);
        await s.call('start_clients', { clients, start_at: Math.round(startAt + s.clock.offset_ms), live }, RPC_TIMEOUT_MS + lead);
        emit({ type: 'clients-started', host: h.name, count: clients.length, round });
      } catch (err) {
        clientErrors.set(h.name, asError(err, 'start_clients'));
      }
    }),
  );
  await waitForTest(test.duration, startAt, emit, latestBps, sessions, signal);
  const info = { round, scheduled_at: startAt, flows: flows.length };
  // Interrupted: collectAll stops every host and collects what there is, this round included.
  if (signal?.aborted) return info;
  const ids = flows.map((f) => f.id);
  await Promise.all(
    hosts.map(async (h) => {
      const s = sessions.get(h.name)!;
      try {
        const res = await s.call('collect', { ids, wait_ms: COLLECT_WAIT_MS }, COLLECT_WAIT_MS + RPC_TIMEOUT_MS);
        records.push(...res.instances);
        emit({ type: 'host-collected', host: h.name, records: res.instances });
      } catch (err) {
        if (!clientErrors.has(h.name)) clientErrors.set(h.name, asError(err, 'collect'));
      }
    }),
  );
  return info;
}

/** Wait out a round's test, reporting progress and sampling each host's health as it runs. */
async function waitForTest(
  duration: number,
  startAt: number,
  emit: MeshEventListener,
  latestBps: Map<string, number>,
  sessions: Map<string, HostSession>,
  signal?: AbortSignal,
): Promise<void> {
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

/** After an interrupt: stop every host's iperf3s and keep whatever they had. */
async function collectAll(sessions: Map<string, HostSession>, records: InstanceRecord[], emit: MeshEventListener): Promise<void> {
  const have = new Set(records.map((r) => `${r.role}:${r.id}`));
  await Promise.all(
    [...sessions.entries()].map(async ([name, s]) => {
      try {
        await s.call('stop', {}, 5000);
        const res = await s.call('collect', { wait_ms: 0 }, RPC_TIMEOUT_MS);
        const fresh = res.instances.filter((r) => !have.has(`${r.role}:${r.id}`));
        records.push(...fresh);
        emit({ type: 'host-collected', host: name, records: fresh });
      } catch {
        // lost: its pairs say so
      }
    }),
  );
}
