/** Who serves whom: pure functions from hosts and parameters to the specs sent to each daemon. */
import type { HostConfig } from '../inventory/types.js';
import type { ClientSpec, ServerSpec } from '../protocol/messages.js';
import { instanceId } from '../results/build.js';

/**
 * processes = "auto": every host runs K clients and K servers per peer, 2*K*(N-1) iperf3
 * processes in all, each pinned to one core. K is the largest number that keeps that within the
 * smallest host's usable CPUs, and at least 1. (iperf3 -A pins a whole process, so all -P streams
 * of one process share its core: more processes, not more streams, is what uses more cores.)
 */
export function autoProcesses(usableCpus: number[], hostCount: number): number {
  if (hostCount < 2 || usableCpus.length === 0) return 1;
  const fewest = Math.min(...usableCpus);
  return Math.max(1, Math.floor(fewest / (2 * (hostCount - 1))));
}

/** Every (source, destination, instance) of the mesh, in a stable order. */
function* instances(hosts: HostConfig[], processes: number): Generator<[HostConfig, HostConfig, number]> {
  for (const src of hosts) {
    for (const dst of hosts) {
      if (src.name === dst.name) continue;
      for (let k = 0; k < processes; k++) yield [src, dst, k];
    }
  }
}

function byHost<T>(hosts: HostConfig[]): Map<string, T[]> {
  return new Map(hosts.map((h) => [h.name, []]));
}

/** For each host, the servers it runs: K per peer, bound to its own address. */
export function planServers(hosts: HostConfig[], processes: number): Map<string, ServerSpec[]> {
  const plan = byHost<ServerSpec>(hosts);
  for (const [src, dst, k] of instances(hosts, processes)) {
    plan.get(dst.name)!.push({ id: instanceId(src.name, dst.name, k), source: src.name, destination: dst.name, instance: k, bind: dst.address });
  }
  return plan;
}

/**
 * For each host, the clients it runs: one per server that was really started for it, connecting to
 * the port that server's daemon chose.
 */
export function planClients(
  hosts: HostConfig[],
  processes: number,
  serverPorts: ReadonlyMap<string, number>,
  test: { duration: number; parallel: number },
): Map<string, ClientSpec[]> {
  const plan = byHost<ClientSpec>(hosts);
  for (const [src, dst, k] of instances(hosts, processes)) {
    const id = instanceId(src.name, dst.name, k);
    const port = serverPorts.get(id);
    if (port === undefined) continue;
    plan.get(src.name)!.push({
      id,
      source: src.name,
      destination: dst.name,
      instance: k,
      host: dst.address,
      port,
      bind: src.address,
      duration: test.duration,
      parallel: test.parallel,
    });
  }
  return plan;
}

/** Servers one host runs: K per peer. */
export function serversPerHost(hostCount: number, processes: number): number {
  return processes * (hostCount - 1);
}

/** Ports in an inclusive range. */
export function rangeSize(range: readonly [number, number]): number {
  return range[1] - range[0] + 1;
}
