/**
 * runMesh: the whole run for a library user or the CLI. Connect to every host (a bounded queue),
 * start every server, start every client once all servers listen, wait, collect, stop, and build
 * the results document. A host that fails is recorded and the rest still run; whatever happens,
 * every daemon is stopped and disconnected before runMesh returns.
 */
import PQueue from 'p-queue';
import { randomBytes } from 'node:crypto';
import { InventoryError } from '../inventory/load.js';
import type { HostConfig, Inventory } from '../inventory/types.js';
import { CLIENT_GRACE_MS, ClientSpec, InstanceRecord } from '../protocol/messages.js';
import { buildResults } from '../results/build.js';
import type { ErrorInfo, HostResult, ResultsDocument, RunParameters } from '../results/types.js';
import { localTransport } from '../transport/local.js';
import { sshTransport } from '../transport/ssh.js';
import { HostError, Transport } from '../transport/types.js';
import type { MeshEventListener } from './events.js';
import { autoProcesses, planClients, planServers, rangeSize, serversPerHost } from './plan.js';
import { HostSession } from './session.js';

export interface RunOptions {
  inventory: Inventory;
  /** Overrides of the inventory's [test] table. */
  duration?: number;
  parallel?: number;
  processes?: number | 'auto';
  /** "ssh" (default: the inventory's), "local", or your own Transport. */
  transport?: 'ssh' | 'local' | Transport;
  runId?: string;
  onEvent?: MeshEventListener;
  /** Abort to interrupt: every iperf3 is stopped, what finished is kept, results say interrupted. */
  signal?: AbortSignal;
}

/**
 * After the planned end, how long collect waits for clients: the daemon kills a client hung past
 * its duration at CLIENT_GRACE_MS, so by then every instance has an outcome.
 */
const COLLECT_WAIT_MS = CLIENT_GRACE_MS + 2000;
const RPC_TIMEOUT_MS = 30_000;

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

export async function runMesh(opts: RunOptions): Promise<ResultsDocument> {
  const { inventory, signal } = opts;
  const emit: MeshEventListener = opts.onEvent ?? (() => {});
  const startedAt = new Date();
  const transport = pickTransport(opts.transport ?? inventory.transport);
  const test = {
    duration: opts.duration ?? inventory.test.duration,
    parallel: opts.parallel ?? inventory.test.parallel,
    processes: opts.processes ?? inventory.test.processes,
  };
  checkPortRange(inventory, test.processes);
  const hostResults = new Map<string, HostResult>(
    inventory.hosts.map((h) => [h.name, { name: h.name, address: h.address, status: 'ok', error: null }]),
  );
  const fail = (host: string, error: ErrorInfo) => {
    Object.assign(hostResults.get(host)!, { status: 'failed', error });
    emit({ type: 'host-failed', host, error });
  };
  const sessions = new Map<string, HostSession>();
  const records: InstanceRecord[] = [];
  const clientErrors = new Map<string, ErrorInfo>();
  let processes = typeof test.processes === 'number' ? test.processes : 1;
  const live = () => inventory.hosts.filter((h) => sessions.has(h.name) && hostResults.get(h.name)!.status === 'ok');

  try {
    // 1. Connect and hello, a bounded number of handshakes at once.
    await connectAll(inventory, transport, sessions, hostResults, fail, emit, signal);
    if (test.processes === 'auto') {
      const auto = autoProcesses([...sessions.values()].map((s) => s.hello.cpus.length), live().length);
      processes = Math.max(1, Math.min(auto, Math.floor(rangeSize(inventory.test.port_range) / Math.max(1, live().length - 1))));
    }
    // 2. Servers everywhere; a host whose servers cannot start is out of the mesh.
    if (!signal?.aborted && live().length >= 2) {
      const serverPorts = await startServers(live(), processes, sessions, test.duration, fail, emit);
      // 3. All clients at once, once every server listens; then wait out the test.
      if (!signal?.aborted) {
        await startClients(live(), planClients(live(), processes, serverPorts, test), sessions, clientErrors, emit);
        await waitForTest(test.duration, emit, signal);
      }
    }
    // 4. Collect from every host (after an interrupt: stop first, keep what finished).
    await collectAll(sessions, records, clientErrors, signal?.aborted ? 0 : COLLECT_WAIT_MS, emit);
  } finally {
    // 5. Stop and disconnect, whatever happened above: nothing stays running on a host.
    await Promise.all([...sessions.values()].map((s) => s.close().catch(() => {})));
  }
  for (const [name, s] of sessions) if (s.lost) fail(name, { code: 'host_lost', message: s.lost });

  const parameters: RunParameters = {
    duration: test.duration,
    parallel: test.parallel,
    processes,
    processes_requested: test.processes,
    port_range: inventory.test.port_range,
    protocol: 'tcp',
    transport: transport.name,
  };
  const doc = buildResults({
    runId: opts.runId ?? newRunId(startedAt),
    startedAt,
    finishedAt: new Date(),
    interrupted: signal?.aborted ?? false,
    parameters,
    hosts: [...hostResults.values()],
    records,
    clientErrors,
  });
  emit({ type: 'done', summary: doc.summary });
  return doc;
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
  processes: number,
  sessions: Map<string, HostSession>,
  duration: number,
  fail: (host: string, e: ErrorInfo) => void,
  emit: MeshEventListener,
): Promise<Map<string, number>> {
  const plan = planServers(hosts, processes);
  const ports = new Map<string, number>();
  // A server that never sees its client gives up after this long (iperf3 >= 3.10).
  const idle_timeout = duration + 60;
  await Promise.all(
    hosts.map(async (h) => {
      const servers = plan.get(h.name)!;
      try {
        const res = await sessions.get(h.name)!.call('start_servers', { servers, idle_timeout }, RPC_TIMEOUT_MS);
        for (const s of res.servers) ports.set(s.id, s.port);
        emit({ type: 'servers-listening', host: h.name, count: res.servers.length });
      } catch (err) {
        fail(h.name, asError(err, 'servers'));
      }
    }),
  );
  return ports;
}

async function startClients(
  hosts: HostConfig[],
  plan: Map<string, ClientSpec[]>,
  sessions: Map<string, HostSession>,
  clientErrors: Map<string, ErrorInfo>,
  emit: MeshEventListener,
): Promise<void> {
  await Promise.all(
    hosts.map(async (h) => {
      const clients = plan.get(h.name)!;
      if (clients.length === 0) return;
      try {
        await sessions.get(h.name)!.call('start_clients', { clients }, RPC_TIMEOUT_MS);
        emit({ type: 'clients-started', host: h.name, count: clients.length });
      } catch (err) {
        clientErrors.set(h.name, asError(err, 'start_clients'));
      }
    }),
  );
}

async function waitForTest(duration: number, emit: MeshEventListener, signal?: AbortSignal): Promise<void> {
  const start = Date.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = (Date.now() - start) / 1000;
      emit({ type: 'test-running', elapsed_s: Math.min(elapsed, duration), duration_s: duration });
    }, 1000);
    const done = () => {
      clearInterval(tick);
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, duration * 1000);
    signal?.addEventListener('abort', done);
  });
}

async function collectAll(
  sessions: Map<string, HostSession>,
  records: InstanceRecord[],
  clientErrors: Map<string, ErrorInfo>,
  waitMs: number,
  emit: MeshEventListener,
): Promise<void> {
  await Promise.all(
    [...sessions.entries()].map(async ([name, s]) => {
      try {
        if (waitMs === 0) await s.call('stop', {}, 5000);
        const res = await s.call('collect', { wait_ms: waitMs }, waitMs + RPC_TIMEOUT_MS);
        records.push(...res.instances);
        emit({ type: 'host-collected', host: name, records: res.instances });
      } catch (err) {
        if (!clientErrors.has(name)) clientErrors.set(name, asError(err, 'collect'));
      }
    }),
  );
}
