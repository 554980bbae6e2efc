/**
 * A pair's summary from its instances, in the words of its protocol: what every instance carried
 * together, and TCP's retransmits and RTT or UDP's loss, jitter and reordering. A metric that does
 * not apply (retransmits of UDP, loss of TCP) is null, never 0, so that "none" and "not measured"
 * stay apart.
 */
import type { InstanceResult, PairStatus, PairSummary } from './types.js';

/**
 * Instances that measured something: complete, cut short by an interrupt, or killed for running
 * over its duration with the seconds it did measure (failed, code `timeout`).
 */
export const measured = (i: InstanceResult) => i.status === 'ok' || i.status === 'interrupted' || (i.error?.code === 'timeout' && (i.metrics.throughput_bps ?? 0) > 0);

/** A pair's summary; with several planes, each plane's own summary under `planes`. */
export function pairSummary(instances: InstanceResult[], perPlane = false): PairSummary {
  const summary = planeSummary(instances);
  if (!perPlane) return summary;
  const names = [...new Set(instances.map((i) => i.plane))];
  return { ...summary, planes: Object.fromEntries(names.map((n) => [n, planeSummary(instances.filter((i) => i.plane === n))])) };
}

/** The metrics of a pair that measured nothing: every protocol metric null. */
export const NO_PROTOCOL_METRICS = {
  retransmits: null,
  rtt_min_us: null,
  rtt_mean_us: null,
  rtt_max_us: null,
  lost_packets: null,
  packets: null,
  lost_percent: null,
  jitter_ms: null,
  out_of_order: null,
} as const satisfies Partial<PairSummary>;

function planeSummary(instances: InstanceResult[]): PairSummary {
  const ok = instances.filter((i) => i.status === 'ok');
  const got = instances.filter(measured);
  // All measured, some only until an interrupt: interrupted. Killed ones make it partial: they did not finish.
  const complete = got.length === instances.length && got.every((i) => i.status !== 'failed');
  const status: PairStatus = ok.length === instances.length ? 'ok' : complete ? 'interrupted' : got.length > 0 ? 'partial' : 'failed';
  const sum = (f: (i: InstanceResult) => number | null) => got.reduce((a, i) => a + (f(i) ?? 0), 0);
  return {
    status,
    error: status === 'ok' ? null : (instances.find((i) => i.error)?.error ?? null),
    throughput_bps: sum((i) => i.metrics.throughput_bps),
    sent_bps: sum((i) => i.metrics.sent_bps),
    ...protocolMetrics(got),
    instances: instances.length,
    instances_ok: ok.length,
    in_window: leastInWindow(instances),
  };
}

/** The least in-window share among the instances that have one (set once rounds are known). */
function leastInWindow(instances: InstanceResult[]): number | null {
  const v = instances.map((i) => i.in_window).filter((x): x is number => typeof x === 'number');
  return v.length ? Math.min(...v) : null;
}

/** Values of one metric over the instances that have it. */
const values = (got: InstanceResult[], f: (i: InstanceResult) => number | null) => got.map(f).filter((v): v is number => v !== null);
const total = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) : null);

function protocolMetrics(got: InstanceResult[]): Pick<PairSummary, keyof typeof NO_PROTOCOL_METRICS> {
  const udp = got.some((i) => i.parameters.protocol === 'udp');
  if (udp) {
    const lost = total(values(got, (i) => i.metrics.lost_packets));
    const packets = total(values(got, (i) => i.metrics.packets));
    const jitter = values(got, (i) => i.metrics.jitter_ms);
    return {
      ...NO_PROTOCOL_METRICS,
      lost_packets: lost,
      packets,
      // From the sums: an average of percentages would weigh a nearly idle instance like a busy one.
      lost_percent: lost !== null && packets ? Math.round((lost / packets) * 100 * 1e4) / 1e4 : null,
      // The worst instance: one jittery flow is what a user must see.
      jitter_ms: jitter.length ? Math.max(...jitter) : null,
      out_of_order: total(values(got, (i) => i.metrics.out_of_order)),
    };
  }
  if (got.length === 0) return { ...NO_PROTOCOL_METRICS };
  const means = values(got, (i) => i.metrics.rtt_mean_us);
  const mins = values(got, (i) => i.metrics.rtt_min_us);
  const maxs = values(got, (i) => i.metrics.rtt_max_us);
  return {
    ...NO_PROTOCOL_METRICS,
    retransmits: total(values(got, (i) => i.metrics.retransmits)),
    rtt_min_us: mins.length ? Math.min(...mins) : null,
    rtt_mean_us: means.length ? Math.round(total(means)! / means.length) : null,
    rtt_max_us: maxs.length ? Math.max(...maxs) : null,
  };
}
