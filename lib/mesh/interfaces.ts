/**
 * What each host's test interfaces are, and what went through them. Pure functions over the
 * daemons' `interfaces` answers: which interface holds each test address, MTUs that differ on a
 * plane, and bytes that left a host through another interface than its plane's (a route through
 * the management network is the classic mistake).
 */
import { isIP } from 'node:net';
import type { HostConfig } from '../inventory/types.js';
import type { InterfaceFacts } from '../protocol/messages.js';
import type { HostInterface, ResultsDocument } from '../results/types.js';
import { planeAddress } from './planes.js';

/** Below this many bytes sent on a plane, a host's counters say nothing worth a warning. */
const MIN_BYTES_TO_JUDGE = 10e6;
/** The plane's interface must have carried at least this share of what iperf3 sent over it. */
const MIN_SHARE = 0.5;

/** "fe80::1%eth1" and "FE80::0001" compare equal to what the kernel lists. */
function sameAddress(a: string, b: string): boolean {
  const norm = (x: string) => x.split('%')[0]!.toLowerCase().replace(/(^|:)0+(?=[0-9a-f])/g, '$1');
  return norm(a) === norm(b);
}

/**
 * A host's test interfaces: for every plane it is on, the interface holding its address there.
 * An address no interface holds is named in `problems` (a DNS name, or the wrong host's address).
 */
export function testInterfaces(
  host: HostConfig,
  planes: readonly string[],
  facts: InterfaceFacts[],
  resolved: Record<string, string | null> = {},
): { interfaces: HostInterface[]; problems: string[] } {
  const interfaces: HostInterface[] = [];
  const problems: string[] = [];
  for (const plane of planes) {
    const address = planeAddress(host, plane);
    if (address === undefined) continue;
    // A name is looked for by the address the host's own resolver gave it.
    const named = !isIP(address.split('%')[0]!);
    const ip = named ? (resolved[address] ?? null) : address;
    if (ip === null) {
      problems.push(`${host.name}: ${address} (plane "${plane}") does not resolve on the host; iperf3 there cannot bind to it`);
      continue;
    }
    // 127.0.0.0/8 is all the loopback's, though it lists 127.0.0.1 alone.
    const nic = facts.find((f) => f.addresses.some((a) => sameAddress(a, ip) || (ip.startsWith('127.') && a === '127.0.0.1')));
    if (!nic) {
      problems.push(`${host.name}: no interface of this host holds ${address}${named ? ` (${ip})` : ''} (plane "${plane}"); its byte counters cannot be read`);
      continue;
    }
    interfaces.push({
      plane,
      address,
      ...(named ? { ip } : {}),
      name: nic.name,
      mtu: nic.mtu,
      speed_mbps: nic.speed_mbps,
      numa_node: nic.numa_node,
      driver: nic.driver,
      rx_bytes: null,
      tx_bytes: null,
    });
  }
  return { interfaces, problems };
}

/** A host's data addresses written as names, for its own resolver to resolve. */
export function namesOf(host: HostConfig, planes: readonly string[]): string[] {
  return planes.map((p) => planeAddress(host, p)).filter((a): a is string => a !== undefined && !isIP(a.split('%')[0]!));
}

/** Planes whose hosts' interfaces have different MTUs: a path MTU mismatch drops or fragments big packets. */
export function mtuWarnings(hosts: { name: string; interfaces: HostInterface[] }[]): string[] {
  const byPlane = new Map<string, { host: string; mtu: number }[]>();
  for (const h of hosts) {
    for (const i of h.interfaces) if (i.mtu !== null) byPlane.set(i.plane, [...(byPlane.get(i.plane) ?? []), { host: h.name, mtu: i.mtu }]);
  }
  const out: string[] = [];
  for (const [plane, list] of byPlane) {
    const mtus = [...new Set(list.map((x) => x.mtu))].sort((a, b) => a - b);
    if (mtus.length < 2) continue;
    const groups = mtus.map((m) => `${m} on ${list.filter((x) => x.mtu === m).map((x) => x.host).join(', ')}`);
    out.push(`plane "${plane}": interface MTUs differ (${groups.join('; ')}); set one MTU on every host of the plane, or expect fragmentation, drops or stalls on big packets`);
  }
  return out;
}

/** Counter differences per interface name, between two readings of one host. */
export function counterDeltas(before: InterfaceFacts[], after: InterfaceFacts[]): Map<string, { rx: number; tx: number }> {
  const out = new Map<string, { rx: number; tx: number }>();
  for (const a of after) {
    const b = before.find((x) => x.name === a.name);
    if (b) out.set(a.name, { rx: a.rx_bytes - b.rx_bytes, tx: a.tx_bytes - b.tx_bytes });
  }
  return out;
}

/**
 * Each host's plane interfaces should have sent at least half of what iperf3 says the host sent
 * on that plane. When one did not, name the interface that carried the bytes instead.
 */
export function trafficWarnings(doc: ResultsDocument, deltas: ReadonlyMap<string, Map<string, { rx: number; tx: number }>>): string[] {
  const out: string[] = [];
  for (const host of doc.run.hosts) {
    const d = deltas.get(host.name);
    if (!d || !host.interfaces) continue;
    for (const nic of host.interfaces) {
      const sent = bytesSentOn(doc, host.name, nic.plane);
      const through = d.get(nic.name)?.tx ?? 0;
      if (sent < MIN_BYTES_TO_JUDGE || through >= sent * MIN_SHARE) continue;
      const busiest = [...d.entries()].filter(([n]) => n !== nic.name).sort((a, b) => b[1].tx - a[1].tx)[0];
      const instead = busiest && busiest[1].tx >= sent * MIN_SHARE ? `; ${busiest[0]} sent ${mb(busiest[1].tx)} meanwhile: the traffic took that interface (check the routes and the plane's addresses)` : '';
      out.push(`${host.name}: iperf3 sent ${mb(sent)} on plane "${nic.plane}", but its interface ${nic.name} (${nic.address}) transmitted only ${mb(through)}${instead}`);
    }
  }
  return out;
}

/** Bytes iperf3 says a host sent on a plane, all directions it sent in (bidir included). */
function bytesSentOn(doc: ResultsDocument, host: string, plane: string): number {
  let sum = 0;
  for (const pair of Object.values(doc.sources[host]?.destinations ?? {})) {
    for (const i of pair.instances) if (i.plane === plane) sum += i.metrics.bytes_sent ?? 0;
  }
  return sum;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
