/**
 * The daemon's methods: each takes checked params and returns a protocol result. Owns the set of
 * iperf3 instances and the ports and cores handed out to them.
 */
import type {
  ClientSpec,
  CollectResult,
  DaemonOptions,
  HelloResult,
  ServerSpec,
  StartClientsResult,
  StartedInstance,
  StartServersResult,
  StatusResult,
  StopResult,
} from '../protocol/messages.js';
import { CLIENT_GRACE_MS, ErrorCode } from '../protocol/messages.js';
import { hostFacts, IperfFacts, probeIperf } from './facts.js';
import { Instance, SpawnSpec } from './instances.js';
import { pickPorts } from './ports.js';
import { isListening, tcpSockets, usableCpus, versionAtLeast } from './proc.js';
import os from 'node:os';

/** How long a server may take to reach LISTEN before we call it failed. */
const LISTEN_TIMEOUT_MS = 5000;
const LISTEN_POLL_MS = 10;

export class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DaemonService {
  private readonly instances = new Map<string, Instance>();
  private readonly portsGiven = new Set<number>();
  private readonly cpus: number[];
  private nextCpu = 0;
  private iperf: IperfFacts | null = null;

  constructor(private readonly options: DaemonOptions) {
    this.cpus = usableCpus(os.cpus().length);
  }

  hello(): HelloResult {
    return hostFacts(this.iperfFacts());
  }

  private iperfFacts(): IperfFacts {
    this.iperf ??= probeIperf(this.options.iperf3);
    return this.iperf;
  }

  async startServers(servers: ServerSpec[], idleTimeout?: number): Promise<StartServersResult> {
    this.checkNew(servers);
    const iperf = this.iperfFacts();
    let ports: number[];
    try {
      ports = pickPorts(this.options.port_range, servers.length, this.takenPorts());
    } catch (err) {
      throw new RpcFailure(ErrorCode.NoFreePort, (err as Error).message);
    }
    ports.forEach((p) => this.portsGiven.add(p));
    const serverArgv = (spec: ServerSpec, port: number, cpu: number | null) => {
      const argv = [this.options.iperf3, '-s', '-1', '-J', '-p', String(port), '-B', spec.bind];
      if (cpu !== null) argv.push('-A', String(cpu));
      if (idleTimeout && versionAtLeast(iperf.version, '3.10')) argv.push('--idle-timeout', String(idleTimeout));
      return argv;
    };
    const started = await Promise.all(
      servers.map(async (spec, i) => {
        const cpu = this.takeCpu();
        const first = await this.launchServer({ ...spec, role: 'server', argv: serverArgv(spec, ports[i]!, cpu), cpu, port: ports[i]!, address: spec.bind });
        if (!('failed' in first)) return first;
        // Lost a race for the port (another program bound it after we looked): once more on
        // another free port; the failed attempt stays in collect's records under its own id.
        const port = this.freshPort(spec.id, first.failed);
        const retry = await this.launchServer({ ...spec, role: 'server', argv: serverArgv(spec, port, cpu), cpu, port, address: spec.bind });
        if ('failed' in retry) throw new RpcFailure(ErrorCode.SpawnFailed, `${first.failed}; retried on port ${port}: ${retry.failed}`);
        return retry;
      }),
    );
    return { servers: started };
  }

  startClients(clients: ClientSpec[]): StartClientsResult {
    this.checkNew(clients);
    const started = clients.map((spec) => {
      const cpu = this.takeCpu();
      const argv = [this.options.iperf3, '-c', spec.host, '-p', String(spec.port), '-t', String(spec.duration)];
      argv.push('-P', String(spec.parallel), '-J');
      if (spec.bind) argv.push('-B', spec.bind);
      if (cpu !== null) argv.push('-A', String(cpu));
      const inst = this.launch({ ...spec, role: 'client', argv, cpu, port: spec.port, address: spec.host });
      inst.deadline(spec.duration * 1000 + CLIENT_GRACE_MS);
      return started_(inst);
    });
    return { clients: started };
  }

  status(): StatusResult {
    const instances = [...this.instances.values()].map((i) => i.status());
    return { pid: process.pid, active: instances.filter((i) => i.state === 'running').length, instances };
  }

  async collect(waitMs = 0): Promise<CollectResult> {
    const all = [...this.instances.values()];
    if (waitMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(all.map((i) => i.exited)),
        new Promise((r) => (timer = setTimeout(r, waitMs))),
      ]);
      clearTimeout(timer);
    }
    return { instances: all.map((i) => ({ ...i.record })) };
  }

  async stop(): Promise<StopResult> {
    const running = [...this.instances.values()].filter((i) => i.running);
    await Promise.all(running.map((i) => i.kill()));
    return { killed: running.length };
  }

  private checkNew(specs: { id: string }[]): void {
    const seen = new Set<string>();
    for (const s of specs) {
      if (this.instances.has(s.id) || seen.has(s.id)) throw new RpcFailure(ErrorCode.InvalidParams, `instance id ${s.id} is already in use`);
      seen.add(s.id);
    }
  }

  /** Ports in use on this host (any TCP state) or already handed out by us. */
  private takenPorts(): Set<number> {
    return new Set([...this.portsGiven, ...tcpSockets().map((s) => s.port)]);
  }

  /** Cores round-robin over the affinity list, so servers and clients interleave across cores. */
  private takeCpu(): number | null {
    if (this.cpus.length === 0) return null;
    return this.cpus[this.nextCpu++ % this.cpus.length]!;
  }

  private launch(spec: SpawnSpec): Instance {
    const inst = new Instance(spec, process.pid);
    this.instances.set(spec.id, inst);
    return inst;
  }

  /** Start a server; resolve once its own socket is in LISTEN state, or with why it is not. */
  private async launchServer(spec: SpawnSpec): Promise<StartedInstance | { failed: string }> {
    const inst = this.launch(spec);
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!inst.running) {
        const why = errorOf(inst.record.iperf3) || inst.record.stderr.trim() || `exit ${inst.record.exit_code}`;
        return { failed: `iperf3 server for ${spec.id} on port ${spec.port} exited before listening: ${why}` };
      }
      if (isListening(inst.record.pid, spec.port)) return started_(inst);
      await sleep(LISTEN_POLL_MS);
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
    try {
      const [port] = pickPorts(this.options.port_range, 1, this.takenPorts());
      this.portsGiven.add(port!);
      return port!;
    } catch (err) {
      throw new RpcFailure(ErrorCode.NoFreePort, `${why}; no other free port to retry on: ${(err as Error).message}`);
    }
  }
}

function started_(inst: Instance): StartedInstance {
  const r = inst.record;
  return { id: r.id, pid: r.pid, port: r.port, cpu: r.cpu, started_at: r.started_at };
}

function errorOf(doc: unknown): string | undefined {
  const e = (doc as { error?: unknown } | null)?.error;
  return typeof e === 'string' ? e : undefined;
}
