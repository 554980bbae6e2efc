/**
 * What a pair can carry at most under its schedule, from its ends' line rates: the expectation
 * behind `min_percent_of_line_rate`. In a simultaneous mesh ("all") a host's NIC is shared by
 * every peer it sends to (and receives from), so a pair can carry at most the smaller of
 * sender's egress / its peers and receiver's ingress / its peers; in rounds or one pair at a
 * time, the slower end's line rate. Headers are not goodput: iperf3 counts payload only.
 */
import type { HostResult, ResultsDocument } from '../types.js';

/** Ethernet's per-frame cost on the wire beyond the IP packet: header 14, FCS 4, preamble 8, gap 12. */
const ETHERNET_OVERHEAD = 38;
/** IPv4 20 + TCP 20 + the timestamp option Linux sends by default 12; IPv4 20 + UDP 8. */
const HEADERS = { tcp: 52, udp: 28 } as const;

/** Payload bits per wire bit at this MTU. */
export function goodputFactor(mtu: number, protocol: 'tcp' | 'udp'): number {
  return (mtu - HEADERS[protocol]) / (mtu + ETHERNET_OVERHEAD);
}

/**
 * The most the pair src -> dst can carry on the planes it ran on, bits/s of payload; null when a
 * speed is unknown (a virtual NIC that reports none).
 */
export function pairLineRate(doc: ResultsDocument, src: string, dst: string): number | null {
  const pair = doc.sources[src]?.destinations[dst];
  if (!pair) return null;
  const hosts = new Map(doc.run.hosts.map((h) => [h.name, h]));
  const shared = doc.run.parameters.schedule === 'all';
  const planes = [...new Set(pair.instances.map((i) => i.plane))];
  let total = 0;
  for (const plane of planes) {
    const a = nic(hosts.get(src), plane);
    const b = nic(hosts.get(dst), plane);
    if (!a?.speed_mbps || !b?.speed_mbps) return null;
    const egress = (a.speed_mbps * 1e6) / (shared ? degree(doc, src, plane, 'out') : 1);
    const ingress = (b.speed_mbps * 1e6) / (shared ? degree(doc, dst, plane, 'in') : 1);
    const mtu = Math.min(a.mtu ?? 1500, b.mtu ?? 1500);
    total += Math.min(egress, ingress) * goodputFactor(mtu, doc.run.parameters.protocol);
  }
  return planes.length ? total : null;
}

const nic = (h: HostResult | undefined, plane: string) => h?.interfaces?.find((i) => i.plane === plane);

/** How many peers a host sent to (out) or received from (in) on a plane, at once. */
function degree(doc: ResultsDocument, host: string, plane: string, way: 'out' | 'in'): number {
  let n = 0;
  for (const [src, { destinations }] of Object.entries(doc.sources)) {
    for (const [dst, p] of Object.entries(destinations)) {
      if ((way === 'out' ? src : dst) !== host) continue;
      if (p.instances.some((i) => i.plane === plane && i.client)) n++;
    }
  }
  return Math.max(1, n);
}
