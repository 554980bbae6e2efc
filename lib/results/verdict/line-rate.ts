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
 * The most each pair can carry on the planes it ran on, bits/s of payload, as a function of
 * (src, dst); null when a speed is unknown (a virtual NIC that reports none). `shared`: under
 * "all" each NIC is shared by the peers it sends to (receives from) at once; otherwise one pair
 * has it whole. The peers are counted once for the document, not once per pair.
 */
export function lineRates(doc: ResultsDocument, shared = doc.run.parameters.schedule === 'all'): (src: string, dst: string) => number | null {
  const hosts = new Map(doc.run.hosts.map((h) => [h.name, h]));
  // host + plane -> peers it sent to (out) and received from (in) on that plane.
  const out = new Map<string, number>();
  const into = new Map<string, number>();
  for (const [src, { destinations }] of Object.entries(doc.sources)) {
    for (const [dst, p] of Object.entries(destinations)) {
      for (const plane of new Set(p.instances.filter((i) => i.client).map((i) => i.plane))) {
        out.set(`${src} ${plane}`, (out.get(`${src} ${plane}`) ?? 0) + 1);
        into.set(`${dst} ${plane}`, (into.get(`${dst} ${plane}`) ?? 0) + 1);
      }
    }
  }
  const peers = (m: Map<string, number>, host: string, plane: string) => (shared ? Math.max(1, m.get(`${host} ${plane}`) ?? 0) : 1);
  return (src, dst) => {
    const pair = doc.sources[src]?.destinations[dst];
    if (!pair) return null;
    const planes = [...new Set(pair.instances.map((i) => i.plane))];
    let total = 0;
    for (const plane of planes) {
      const a = nic(hosts.get(src), plane);
      const b = nic(hosts.get(dst), plane);
      if (!a?.speed_mbps || !b?.speed_mbps) return null;
      const egress = (a.speed_mbps * 1e6) / peers(out, src, plane);
      const ingress = (b.speed_mbps * 1e6) / peers(into, dst, plane);
      const mtu = Math.min(a.mtu ?? 1500, b.mtu ?? 1500);
      total += Math.min(egress, ingress) * goodputFactor(mtu, doc.run.parameters.protocol);
    }
    return planes.length ? total : null;
  };
}

const nic = (h: HostResult | undefined, plane: string) => h?.interfaces?.find((i) => i.plane === plane);
