/**
 * The phases of one run, in order: connect, start servers, run each round (clients released at
 * one instant, the test waited out, the round collected), and after an interrupt, stop and keep
 * what finished. runMesh (run.ts) strings them together; they share one RunState.
 */
import PQueue from 'p-queue';
import type { HostConfig, Inventory, TestParams } from '../inventory/types.js';
import { CLIENT_GRACE_MS, InstanceRecord } from '../protocol/messages.js';
import type { RoundInfo } from '../results/build.js';
import type { ErrorInfo, HostResult } from '../results/types.js';
import { HostError, Transport } from '../transport/types.js';
import { supports } from '../shared/versions.js';
import type { MeshEventListener } from './events.js';
import { Flow, planClients, planServers } from './plan.js';
import { HostSession } from './session.js';

/** What the phases of one run share; runMesh owns it. */
export interface RunState {
  inventory: Inventory;
  test: TestParams;
  transport: Transport;
  signal?: AbortSignal;
  emit: MeshEventListener;
  sessions: Map<string, HostSession>;
  hostResults: Map<string, HostResult>;
  /** Every instance record collected so far. */
  records: InstanceRecord[];
  /** Why a host's clients of a round have no records (start_clients or collect failed). */
  clientErrors: Map<string, ErrorInfo>;
  /** The latest interval's throughput of each live client (iperf3 >= 3.17), for progress. */
  latestBps: Map<string, number>;
  /** Mark a host failed (once) and say so. */
  fail(host: string, error: ErrorInfo): void;
}

/**
 * After a round's planned end, how long collect waits for its clients: the daemon kills a client
 * hung past its duration at CLIENT_GRACE_MS, so by then every instance has an outcome.
 */
export const COLLECT_WAIT_MS = CLIENT_GRACE_MS + 2000;
const RPC_TIMEOUT_MS = 30_000;
/**
 * Lead before a synchronized start, beyond the slowest host's round trip: time for each daemon to
 * create its clients' processes (held stopped until the instant).
 */
const START_LEAD_MS = 200;
const START_LEAD_PER_CLIENT_MS = 5;

export function asError(err: unknown, fallbackCode: string): ErrorInfo {
  if (err instanceof HostError) return { code: err.code, message: err.message };
  return { code: fallbackCode, message: err instanceof Error ? err.message : String(err) };
}

/** 1. Connect and hello, at most ssh.concurrency handshakes at once. */
export async function connectAll(run: RunState): Promise<void> {
  const { inventory, transport, sessions, hostResults, fail, emit, latestBps, signal } = run;
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
 * 3. One round: every client host is told to start its clients at the same instant (translated
 * into its own clock), the test runs, and the round's instances are collected from every host.
 */
export async function runRound(run: RunState, round: number, flows: Flow[], ports: Map<string, number>): Promise<RoundInfo> {
  const { sessions, clientErrors, records, emit, latestBps, signal } = run;
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
        const live = supports(s.hello.iperf3_version, '--json-stream');
        await s.call('start_clients', { clients, start_at: Math.round(startAt + s.clock.offset_ms), live }, RPC_TIMEOUT_MS + lead);
        emit({ type: 'clients-started', host: h.name, count: clients.length, round });
      } catch (err) {
        clientErrors.set(h.name, asError(err, 'start_clients'));
      }
    }),
  );
  await waitForTest(run, startAt);
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

/** 4. After an interrupt: stop every host's iperf3s and keep whatever they had. */
export async function collectAll(run: RunState): Promise<void> {
  const { sessions, records, emit } = run;
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
