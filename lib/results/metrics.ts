/** Reading the numbers a user cares about out of iperf3's -J document. */
import type { Metrics } from './types.js';

type Doc = Record<string, any>;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function emptyMetrics(): Metrics {
  return {
    throughput_bps: null,
    sent_bps: null,
    bytes_sent: null,
    bytes_received: null,
    retransmits: null,
    rtt_min_us: null,
    rtt_mean_us: null,
    rtt_max_us: null,
    cpu_local_percent: null,
    cpu_remote_percent: null,
    jitter_ms: null,
    lost_packets: null,
    packets: null,
    lost_percent: null,
    out_of_order: null,
  };
}

/**
 * Metrics of one client run, TCP or UDP. With `reverse_of_bidir`, those of the other direction of
 * a --bidir test. Missing pieces stay null rather than guessed.
 */
export function clientMetrics(doc: unknown, reverseOfBidir = false): Metrics {
  const m = emptyMetrics();
  if (typeof doc !== 'object' || doc === null) return m;
  const end: Doc = (doc as Doc).end ?? {};
  const sfx = reverseOfBidir ? '_bidir_reverse' : '';
  const sent: Doc = end[`sum_sent${sfx}`] ?? {};
  const received: Doc = end[`sum_received${sfx}`] ?? {};
  m.throughput_bps = num(received.bits_per_second);
  m.sent_bps = num(sent.bits_per_second);
  m.bytes_sent = num(sent.bytes);
  m.bytes_received = num(received.bytes);
  m.retransmits = num(sent.retransmits);
  const udp = (doc as Doc).start?.test_start?.protocol === 'UDP';
  if (udp) {
    m.jitter_ms = num(received.jitter_ms);
    m.lost_packets = num(received.lost_packets);
    m.packets = num(received.packets);
    m.lost_percent = num(received.lost_percent);
  }
  // RTT is known on the sending side only: the client's own sending streams. The other direction
  // of a bidir test is sent by the server, so its RTT is in the server's document.
  const streams: Doc[] = Array.isArray(end.streams) ? end.streams : [];
  const senders = reverseOfBidir ? [] : streams.map((s) => s?.sender ?? {}).filter((s) => s.sender !== false);
  const mins = senders.map((s) => num(s.min_rtt)).filter((v): v is number => v !== null);
  const means = senders.map((s) => num(s.mean_rtt)).filter((v): v is number => v !== null);
  const maxs = senders.map((s) => num(s.max_rtt)).filter((v): v is number => v !== null);
  if (mins.length) m.rtt_min_us = Math.min(...mins);
  if (means.length) m.rtt_mean_us = Math.round(means.reduce((a, b) => a + b, 0) / means.length);
  if (maxs.length) m.rtt_max_us = Math.max(...maxs);
  if (udp) {
    const ooo = streams.map((s) => num(s?.udp?.out_of_order)).filter((v): v is number => v !== null);
    if (ooo.length) m.out_of_order = ooo.reduce((a, b) => a + b, 0);
  }
  m.cpu_local_percent = num(end.cpu_utilization_percent?.host_total);
  m.cpu_remote_percent = num(end.cpu_utilization_percent?.remote_total);
  return m;
}

/** "iperf 3.12" from start.version -> "3.12". */
export function iperfVersionOf(doc: unknown): string | null {
  const v = (doc as Doc | null)?.start?.version;
  const m = typeof v === 'string' ? /(\d+\.\d+(?:\.\d+)?)/.exec(v) : null;
  return m ? m[1]! : null;
}

/** The client's local port, from the connection iperf3 reports. */
export function localPort(doc: unknown): number | null {
  const c = (doc as Doc | null)?.start?.connected;
  return Array.isArray(c) && c.length ? num(c[0]?.local_port) : null;
}
