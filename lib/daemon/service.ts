/**
 * The daemon's methods: each takes checked params and returns a protocol result. Owns the set of
 * iperf3 instances and the ports and cores handed out to them.
 */
import os from 'node:os';
import type {
  CollectParams,
  CollectResult,
  DaemonOptions,
  HelloResult,
  IntervalParams,
  ReleaseParams,
  ReleaseResult,
  ServerSpec,
  StartClientsParams,
  StartClientsResult,
  StartedInstance,
  StartServersParams,
  StartServersResult,
  StatusResult,
  StopResult,
} from '../protocol/messages.js';
import { HOST_INTERVAL_METHOD, RpcCode } from '../protocol/messages.js';
import { CLIENT_BUSY_MAX_MS, CLIENT_GRACE_MS, RELEASE_WAIT_DEFAULT_MS } from '../protocol/timeouts.js';
import { LiveRate } from './live-rate.js';
import { iperfError } from '../shared/iperf-json.js';
import { hostFacts, IperfFacts, probeIperf } from './facts.js';
import { HealthSampler } from './health.js';
import { Instance, IntervalListener, SpawnSpec, wakeGroup } from './instances.js';
import { TrafficWatch, watchTrafficStart } from './traffic-start.js';
import { coresNear, numaOf } from './numa.js';
import { clientArgv, serverArgv } from './iperf-args.js';
import { pickPorts } from './ports.js';
import { TCP_CLOSING } from '../shared/proc-net-tcp.js';
import { tcpSockets, usableCpus } from './proc.js';
import { familyOf, ProcWatch } from './watch.js';

/**
 * How long a server may take to reach LISTEN, a held one to stop, and a client to connect to its
 * held server, before we call it failed or answer without it: generous, since hundreds of
 * processes may be starting on a busy host.
 */
const LISTEN_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 15_000;
/** Processes spawned between two turns of the event loop, so heartbeats are answered meanwhile. */
const SPAWN_BATCH = 4;

/** A client waiting for its round's release, how long it is meant to run, and the watch of its start. */
interface Waiting {
  inst: Instance;
  durationMs: number;
  watch: TrafficWatch;
}

/** Every SPAWN_BATCH spawns, let the event loop run (spawning is synchronous). */
async function breathe(i: number): Promise<void> {
  if (i % SPAWN_BATCH === SPAWN_BATCH - 1) await new Promise((r) => setImmediate(r));
}

export class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Notify = (method: string, params: unknown) => void;

export class DaemonService {
  private readonly instances = new Map<string, Instance>();
  private readonly portsGiven = new Set<number>();
  private readonly cpus: number[];
  private readonly health = new HealthSampler();
  private readonly watch = new ProcWatch();
  /** Clients connected and waiting for the next release; servers held stopped. */
  private waiting: Waiting[] = [];
  private readonly held = new Map<string, Instance>();
  /** Until when (ms since the epoch) a test of ours runs: the controller may be silent meanwhile. */
  testRunsUntil = 0;
  /** iperf3 processes asked of us so far, as the controller counts them (lib/protocol/liveness.ts). */
  asked = 0;
  /** Live progress, once a second for the whole host; each interval too when the round asked. */
  private liveIntervals = false;
  private readonly live = new LiveRate((p) => this.notify(HOST_INTERVAL_METHOD, p), () => this.liveIntervals);
  private nextCpu = 0;
  private iperf: IperfFacts | null = null;

  constructor(
    private readonly options: DaemonOptions,
    private readonly notify: Notify = () => {},
  ) {
    const affinity = usableCpus(os.cpus().length);
    // The host's `cpus` limit narrows the affinity list; it can never widen it.
    this.cpus = options.cpus ? affinity.filter((c) => options.cpus!.includes(c)) : affinity;
  }

  hello(): HelloResult {
    return { ...hostFacts(this.iperfFacts(), this.cpus, this.health.cpuLimitCores), max_processes: this.options.max_processes ?? null };
  }

  private iperfFacts(): IperfFacts {
    this.iperf ??= probeIperf(this.options.iperf3);
    return this.iperf;
  }

  async startServers({ servers, idle_timeout: idleTimeout, hold }: StartServersParams): Promise<StartServersResult> {
    this.checkNew(servers);
    const version = this.iperfFacts().version;
    const ports = this.takePorts(servers.length, '');
    const launch = (spec: ServerSpec, port: number, cpu: number | null) =>
      this.launchServer({
        ...spec,
        role: 'server',
        argv: serverArgv(this.options.iperf3, version, { port, bind: spec.bind, cpu, idleTimeout }),
        cpu,
        port,
        address: spec.bind,
        iperf3_version: version,
        held: hold,
      });
    const startOne = async (spec: ServerSpec, i: number) => {
      const cpu = this.takeCpu(spec.bind);
      const first = await launch(spec, ports[i]!, cpu);
      if (!('failed' in first)) return first;
      // Lost a race for the port (another program bound it after we looked): once more on
      // another free port; the failed attempt stays in collect's records under its own id.
      const port = this.freshPort(spec.id, first.failed);
      const retry = await launch(spec, port, cpu);
      if ('failed' in retry) throw new RpcFailure(RpcCode.SpawnFailed, `${first.failed}; retried on port ${port}: ${retry.failed}`);
      return retry;
    };
    const pending: Promise<StartedInstance>[] = [];
    for (const [i, spec] of servers.entries()) {
      pending.push(startOne(spec, i));
      await breathe(i);
    }
    return { servers: await Promise.all(pending) };
  }

  /**
   * Start clients now, against servers held stopped on their hosts, and answer once each has its
   * control connection up (or has exited): all the cost of creating and loading a process is paid
   * here, before the instant. They wait, connected, until release wakes their servers.
   */
  async startClients(p: StartClientsParams): Promise<StartClientsResult> {
    this.checkNew(p.clients);
    const version = this.iperfFacts().version;
    const cpus = p.clients.map((c) => this.takeCpu(c.bind));
    let argvs: string[][];
    try {
      argvs = p.clients.map((spec, i) => clientArgv(this.options.iperf3, version, { ...spec, cpu: cpus[i]!, live: p.live }));
    } catch (err) {
      throw new RpcFailure(RpcCode.InvalidParams, (err as Error).message);
    }
    this.liveIntervals = p.intervals === true;
    const onInterval: IntervalListener | undefined = p.live
      ? (id, data) => {
          const sum = data.sum as { end?: number; bits_per_second?: number } | undefined;
          if (sum?.end !== undefined && sum.bits_per_second !== undefined) this.live.interval({ id, end: sum.end, bits_per_second: sum.bits_per_second } satisfies IntervalParams);
        }
      : undefined;
    const started: Instance[] = [];
    for (const [i, spec] of p.clients.entries()) {
      const inst = this.launch({ ...spec, role: 'client', argv: argvs[i]!, cpu: cpus[i]!, port: spec.port, address: spec.host, iperf3_version: version }, onInterval);
      if (onInterval) {
        this.live.started(spec.id);
        void inst.exited.then(() => this.live.ended(spec.id));
      }
      started.push(inst);
      await breathe(i);
    }
    const connected = await Promise.all(
      started.map((inst, i) => this.watch.connected(inst.record.pid, p.clients[i]!.port, familyOf(p.clients[i]!.host), CONNECT_TIMEOUT_MS, () => !inst.running)),
    );
    // Watched from now: the release may reach this host after its clients' servers have woken.
    // A test that begins late (its handshake waits for a loaded host's CPU) is not hung: its
    // deadline runs again from its real start, once the round has been released.
    const durationMs = p.clients.map((c) => c.options.duration * 1000);
    const durations = new Map(started.map((inst, i) => [inst, durationMs[i]!]));
    const watch = watchTrafficStart(
      started.filter((inst) => inst.running),
      (inst) => inst.record.scheduled_at !== null && this.armRunning(inst, durations.get(inst)!),
    );
    return {
      clients: started.map((inst, i) => {
        // A release that never comes (the controller gave up on this host) must not leave it waiting.
        inst.deadline((p.release_within_ms ?? RELEASE_WAIT_DEFAULT_MS) + durationMs[i]! + CLIENT_GRACE_MS);
        if (inst.running) this.waiting.push({ inst, durationMs: durationMs[i]!, watch });
        return { ...started_(inst), connected: connected[i]! && inst.running };
      }),
    };
  }

  /**
   * The round's instant: at `start_at` (host clock) wake the round's held servers, with one
   * signal where it can; then watch the waiting clients for their traffic's real start and give
   * them their deadlines from now.
   */
  async release(p: ReleaseParams): Promise<ReleaseResult> {
    const clients = this.waiting.splice(0);
    const servers = (p.servers ?? []).map((id) => this.held.get(id)).filter((i): i is Instance => i !== undefined);
    const instant = p.start_at ?? Date.now();
    for (const { inst } of clients) inst.record.scheduled_at = p.start_at ?? null;
    for (const w of new Set(clients.map((c) => c.watch))) w.instant(instant);
    await sleep(instant - Date.now());
    for (const inst of servers) this.held.delete(inst.record.id);
    if (!wakeGroup(servers, this.held.size === 0)) for (const inst of servers) inst.wake();
    const releasedAt = Date.now();
    this.testRunsUntil = Math.max(this.testRunsUntil, releasedAt + Math.max(0, ...clients.map((c) => c.durationMs)));
    for (const { inst, durationMs } of clients) this.armRunning(inst, durationMs);
    return { released_at: releasedAt, servers: servers.length, clients: clients.length };
  }

  /** A running test's deadline: its duration and a grace, longer while the host is starved of CPU. */
  private armRunning(inst: Instance, durationMs: number): void {
    inst.deadline(durationMs + CLIENT_GRACE_MS, CLIENT_GRACE_MS, durationMs + CLIENT_BUSY_MAX_MS);
  }

  status(): StatusResult {
    const instances = [...this.instances.values()].map((i) => i.status());
    const active = instances.filter((i) => i.state === 'running').length;
    return { pid: process.pid, active, instances, health: this.health.sample(active) };
  }

  async collect(p: CollectParams = {}): Promise<CollectResult> {
    const wanted = p.ids ? new Set(p.ids) : null;
    const chosen = [...this.instances.values()].filter((i) => (!wanted || wanted.has(i.record.id)) && (!p.role || i.record.role === p.role));
    if (p.wait_ms) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(chosen.map((i) => i.exited)),
        new Promise((r) => (timer = setTimeout(r, p.wait_ms))),
      ]);
      clearTimeout(timer);
    }
    return { instances: chosen.map((i) => ({ ...i.record })) };
  }

  async stop(ids?: string[]): Promise<StopResult> {
    const wanted = ids ? new Set(ids) : null;
    const running = [...this.instances.values()].filter((i) => i.running && (!wanted || wanted.has(i.record.id)));
    await Promise.all(running.map((i) => i.kill()));
    return { killed: running.length };
  }

  /** New ids only, and never more running iperf3 processes than the host allows. */
  private checkNew(specs: { id: string }[]): void {
    this.asked += specs.length;
    const seen = new Set<string>();
    for (const s of specs) {
      if (this.instances.has(s.id) || seen.has(s.id)) throw new RpcFailure(RpcCode.InvalidParams, `instance id ${s.id} is already in use`);
      seen.add(s.id);
    }
    const max = this.options.max_processes;
    const running = [...this.instances.values()].filter((i) => i.running).length;
    if (max !== undefined && running + specs.length > max) {
      throw new RpcFailure(RpcCode.TooManyProcesses, `this host allows ${max} iperf3 processes (max_processes); ${running} run and ${specs.length} more were asked for`);
    }
  }

  /** Ports held on this host (any socket not closing) or given to a server of this run. */
  portsInUse(): Set<number> {
    return this.takenPorts();
  }

  /**
   * Ports handed out and not yet given back, and every port a socket holds, but for sockets
   * already closing (TIME_WAIT and the like, as an earlier round's server leaves them): iperf3
   * binds with SO_REUSEADDR, which they do not block.
   */
  private takenPorts(): Set<number> {
    return new Set([...this.portsGiven, ...tcpSockets().filter((s) => !TCP_CLOSING.has(s.state)).map((s) => s.port)]);
  }

  /**
   * Cores round-robin over the allowed list, so servers and clients interleave across cores;
   * those of the NIC's NUMA node first when the host knows it (lib/daemon/numa.ts).
   */
  private takeCpu(bind?: string): number | null {
    const cpus = coresNear(this.cpus, bind ? this.numa(bind) : null);
    if (cpus.length === 0) return null;
    return cpus[this.nextCpu++ % cpus.length]!;
  }

  private readonly numaByAddress = new Map<string, ReturnType<typeof numaOf>>();

  private numa(address: string): ReturnType<typeof numaOf> {
    if (!this.numaByAddress.has(address)) this.numaByAddress.set(address, numaOf(address));
    return this.numaByAddress.get(address)!;
  }

  private launch(spec: SpawnSpec, onInterval?: IntervalListener): Instance {
    const inst = new Instance(spec, process.pid, onInterval);
    this.instances.set(spec.id, inst);
    return inst;
  }

  /** Start a server; resolve once its own socket is in LISTEN state, or with why it is not. */
  private async launchServer(spec: SpawnSpec): Promise<StartedInstance | { failed: string }> {
    const inst = this.launch(spec);
    const listening = await this.watch.listening(inst.record.pid, spec.port, familyOf(spec.address), LISTEN_TIMEOUT_MS, () => !inst.running);
    if (!inst.running) {
      await inst.exited;
      const why = iperfError(inst.record.iperf3) || inst.record.stderr.trim() || `exit ${inst.record.exit_code}`;
      return { failed: `iperf3 server for ${spec.id} on port ${spec.port} exited before listening: ${why}` };
    }
    if (listening) {
      // Its port is free again once it has gone: servers started per round reuse the range. (A
      // port it could not take stays given: a program we cannot see holds it.)
      void inst.exited.then(() => {
        this.portsGiven.delete(spec.port);
        this.held.delete(spec.id);
      });
      if (spec.held) {
        inst.hold();
        this.held.set(spec.id, inst);
        await this.watch.stopped(inst.record.pid, LISTEN_TIMEOUT_MS, () => !inst.running);
      }
      return started_(inst);
    }
    await inst.kill();
    return { failed: `iperf3 server for ${spec.id} did not listen on port ${spec.port} within ${LISTEN_TIMEOUT_MS} ms` };
  }

  /** A free port for a second attempt; the first attempt's record moves to "<id>~failed". */
  private freshPort(id: string, why: string): number {
    const failed = this.instances.get(id)!;
    this.instances.delete(id);
    failed.record.id = `${id}~failed`;
    failed.record.stderr ||= why;
    this.instances.set(failed.record.id, failed);
    return this.takePorts(1, `${why}; no other free port to retry on: `)[0]!;
  }

  /** Hand out `count` free ports of the range, never two running at once; `context` prefixes the error. */
  private takePorts(count: number, context: string): number[] {
    try {
      const ports = pickPorts(this.options.port_range, count, this.takenPorts());
      ports.forEach((p) => this.portsGiven.add(p));
      return ports;
    } catch (err) {
      throw new RpcFailure(RpcCode.NoFreePort, `${context}${(err as Error).message}`);
    }
  }
}

function started_(inst: Instance): StartedInstance {
  const r = inst.record;
  return { id: r.id, pid: r.pid, port: r.port, cpu: r.cpu, started_at: r.started_at };
}
