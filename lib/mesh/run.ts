/**
 * runMesh: the whole run for a library user or the CLI. Connect to every host (a bounded queue),
 * start every server, measure each host's clock, then run the schedule's rounds: each round's
 * clients start at one instant on every host, run, and are collected. A host that fails is
 * recorded and the rest still run; whatever happens, every daemon is stopped and disconnected
 * before runMesh returns.
 */
import { randomBytes } from 'node:crypto';
import { InventoryError } from '../inventory/load.js';
import type { HostConfig, Inventory, TestParams } from '../inventory/types.js';
import { buildResults, RoundInfo } from '../results/build.js';
import type { HostResult, ResultsDocument } from '../results/types.js';
import { localTransport } from '../transport/local.js';
import { sshTransport } from '../transport/ssh.js';
import type { Transport } from '../transport/types.js';
import type { MeshEventListener } from './events.js';
import { asError, COLLECT_WAIT_MS, collectAll, connectAll, runRound, RunState, startServers } from './phases.js';
import { autoProcesses, Flow, planFlows, rangeSize, roundCount, serversPerHost } from './plan.js';

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


/** What a round takes beyond its duration in a healthy run (release, collect), generously. */
const ROUND_OVERHEAD_S = 15;

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
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
  const run: RunState = {
    inventory,
    test,
    transport,
    signal,
    emit,
    sessions: new Map(),
    hostResults,
    records: [],
    latestBps: new Map(),
    fail(host, error) {
      if (hostResults.get(host)!.status === 'failed') return;
      Object.assign(hostResults.get(host)!, { status: 'failed', error });
      emit({ type: 'host-failed', host, error });
    },
  };
  const { sessions, fail } = run;
  const rounds: RoundInfo[] = [];
  let processes = typeof test.processes === 'number' ? test.processes : 1;
  let flows: Flow[] = [];
  const isUp = (h: HostConfig) => sessions.has(h.name) && hostResults.get(h.name)!.status === 'ok';
  const live = () => inventory.hosts.filter(isUp);

  // An interrupt stops every iperf3 at once, whatever the run is waiting for (a collect included).
  let interruptedAt: number | null = signal?.aborted ? Date.now() : null;
  const stopAll = () => {
    interruptedAt = Date.now();
    sessions.forEach((s) => void s.call('stop', {}, 5000).catch(() => {}));
  };
  signal?.addEventListener('abort', stopAll, { once: true });
  try {
    // 1. Connect and hello, a bounded number of handshakes at once.
    await connectAll(run);
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
      // A server waits for its round: every round before it, each normally its duration and a few
      // seconds, and the last one stretched as far as collect allows. iperf3 caps it at a day.
      const idle = Math.min(86_400, roundCount(flows) * (test.duration + ROUND_OVERHEAD_S) + COLLECT_WAIT_MS / 1000 + 60);
      const ports = await startServers(run, live(), flows, idle);
      // 3. Clocks, then the rounds, each starting in sync on every host.
      await Promise.all(live().map((h) => sessions.get(h.name)!.measureClock().catch((e) => fail(h.name, asError(e, 'clock')))));
      for (let r = 0; r < roundCount(flows) && !signal?.aborted; r++) {
        const round = flows.filter((f) => f.round === r && isUp(f.client) && isUp(f.server));
        rounds.push(await runRound(run, r, round, ports));
      }
    }
    // 4. After an interrupt: stop first, keep what finished.
    if (signal?.aborted) await collectAll(run);
  } finally {
    signal?.removeEventListener('abort', stopAll);
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
    interruptedAt,
    test,
    processes,
    transport: transport.name,
    hosts: [...hostResults.values()],
    flows,
    rounds,
    records: run.records,
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
