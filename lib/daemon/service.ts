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
  ReleaseClientsParams,
  ServerSpec,
  StartClientsParams,
  StartClientsResult,
  StartedInstance,
  StartServersResult,
  StatusResult,
  StopResult,
} from '../protocol/messages.js';
import { CLIENT_BUSY_MAX_MS, CLIENT_GRACE_MS, INTERVAL_METHOD, RpcCode } from '../protocol/messages.js';
import { iperfError } from '../shared/iperf-json.js';
import { hostFacts, IperfFacts, probeIperf } from './facts.js';
import { HealthSampler } from './health.js';
import { Instance, IntervalListener, releaseGroup, SpawnSpec } from './instances.js';
import { coresNear, numaOf } from './numa.js';
import { clientArgv, serverArgv } from './iperf-args.js';
import { pickPorts } from './ports.js';
import { TCP_CLOSING } from '../shared/proc-net-tcp.js';
import { tcpSockets, usableCpus } from './proc.js';
import { familyOf, ProcWatch } from './watch.js';

/**
 * How long a server may take to reach LISTEN, and a held client to stop itself, before we call
 * it failed: generous, since hundreds of processes may be starting on a busy host.
 */
const LISTEN_TIMEOUT_MS = 15_000;
const HOLD_TIMEOUT_MS = 15_000;
/** Longest a client may stay held before release_clients; then it is killed. */
const HOLD_MAX_MS = 120_000;
/** Processes spawned between two turns of the event loop, so heartbeats are answered meanwhile. */
const SPAWN_BATCH = 4;

/** A held client and how long it is meant to run. */
interface Held {
  inst: Instance;
  durationMs: number;
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
  private held: Held[] = [];
  /** Until when (ms since the epoch) a test of ours runs: the controller may be silent meanwhile. */
  testRunsUntil = 0;
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
    return { ...hostFacts(this.iperfFacts(), this.cpus), max_processes: this.options.max_processes ?? null };
  }

  private iperfFacts(): IperfFacts {
    this.iperf ??= probeIperf(this.options.iperf3);
    return this.iperf;
  }

  async startServers(servers: ServerSpec[], idleTimeout?: number): Promise<StartServersResult> {
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
   * Create clients' processes, stopped, and let them go at `start_at` (host clock), or now. With
   * `hold`, answer once they are created and keep them stopped until release_clients: the
   * controller picks the instant only when every host has said it is ready.
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
    const onInterval: IntervalListener | undefined = p.live
      ? (id, data) => {
          const sum = data.sum as { end?: number; bits_per_second?: number } | undefined;
          if (sum?.end !== undefined && sum.bits_per_second !== undefined) {
            this.notify(INTERVAL_METHOD, { id, end: sum.end, bits_per_second: sum.bits_per_second } satisfies IntervalParams);
          }
        }
      : undefined;
    // Create every process now, stopped, so that the instant costs only a signal each.
    const held: Held[] = [];
    for (const [i, spec] of p.clients.entries()) {
      const inst = this.launch(
        { ...spec, role: 'client', argv: argvs[i]!, cpu: cpus[i]!, port: spec.port, address: spec.host, iperf3_version: version, scheduled_at: p.start_at ?? null, held: true },
        onInterval,
      );
      held.push({ inst, durationMs: spec.options.duration * 1000 });
      await breathe(i);
    }
    await Promise.all(held.map(({ inst }) => this.watch.stopped(inst.record.pid, HOLD_TIMEOUT_MS, () => !inst.running)));
    if (p.hold) {
      // A hold the controller never releases (it gave up on this host) must not outlive the run.
      for (const { inst, durationMs } of held) inst.deadline(HOLD_MAX_MS + durationMs + CLIENT_GRACE_MS);
      this.held.push(...held);
      return { clients: held.map(({ inst }) => started_(inst)) };
    }
    return { clients: await this.release(held, p.start_at) };
  }

  /** Let every held client go at `start_at` (host clock), or now. */
  async releaseClients(p: ReleaseClientsParams): Promise<StartClientsResult> {
    const held = this.held.splice(0);
    for (const { inst } of held) inst.record.scheduled_at = p.start_at ?? null;
    return { clients: await this.release(held, p.start_at) };
  }

  private async release(held: Held[], startAt: number | undefined): Promise<StartedInstance[]> {
    if (startAt !== undefined) await sleep(startAt - Date.now());
    if (!releaseGroup(held.map((h) => h.inst))) for (const { inst } of held) inst.release();
    this.testRunsUntil = Math.max(this.testRunsUntil, Date.now() + Math.max(0, ...held.map((h) => h.durationMs)));
    return held.map(({ inst, durationMs }) => {
      inst.deadline(durationMs + CLIENT_GRACE_MS, CLIENT_GRACE_MS, durationMs + CLIENT_BUSY_MAX_MS);
      return started_(inst);
    });
  }

  /** iperf3 processes running now. */
  running(): number {
    let n = 0;
    for (const i of this.instances.values()) if (i.running) n++;
    return n;
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
      void inst.exited.then(() => this.portsGiven.delete(spec.port));
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
