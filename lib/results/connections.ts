/**
 * Each host's test connections and how many of them worked: the daemon's success and failure
 * rates (the brief's daemon metrics). An instance is one connection, counted on the host that ran
 * its client and on the host that ran its server; a pair skipped because a host never joined has
 * none, so it counts on neither (that host's own status says why).
 */
import type { ConnectionCounts, HostConnections, InstanceStatus } from './types.js';

export type { ConnectionCounts, HostConnections };

const none = (): ConnectionCounts => ({ total: 0, ok: 0, failed: 0, interrupted: 0 });

/** `flows`: every planned instance (mesh and re-test), with the hosts of its client and server and its outcome. */
export function hostConnections(hosts: string[], flows: { client: string; server: string; status: InstanceStatus }[]): Map<string, HostConnections> {
  const out = new Map(hosts.map((h) => [h, { as_client: none(), as_server: none(), success_rate: null as number | null }]));
  const add = (c: ConnectionCounts, status: InstanceStatus) => {
    c.total++;
    c[status]++;
  };
  for (const f of flows) {
    const client = out.get(f.client);
    const server = out.get(f.server);
    if (client) add(client.as_client, f.status);
    if (server) add(server.as_server, f.status);
  }
  for (const h of out.values()) h.success_rate = ratio(h.as_client.ok + h.as_server.ok, h.as_client.total + h.as_server.total);
  return out;
}

/** Counts over several runs of the same hosts (a campaign's steps), the rate over them all. */
export function sumConnections(all: (HostConnections | undefined)[]): HostConnections {
  const out: HostConnections = { as_client: none(), as_server: none(), success_rate: null };
  for (const c of all) {
    if (!c) continue;
    for (const role of ['as_client', 'as_server'] as const) for (const k of ['total', 'ok', 'failed', 'interrupted'] as const) out[role][k] += c[role][k];
  }
  out.success_rate = ratio(out.as_client.ok + out.as_server.ok, out.as_client.total + out.as_server.total);
  return out;
}

/** a / b to four places, null when there is nothing to divide by. */
export function ratio(a: number, b: number): number | null {
  return b > 0 ? Math.round((a / b) * 10000) / 10000 : null;
}
