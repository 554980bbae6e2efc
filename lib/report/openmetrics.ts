/**
 * A report as OpenMetrics text (what Prometheus' node_exporter textfile collector reads): one
 * gauge per pair metric, labelled src, dst and plane, so that a scheduled run feeds Grafana.
 * Metrics that do not apply to a pair (UDP loss of a TCP pair) are left out, not written as 0.
 */
import type { PairSummary, ResultsDocument } from '../results/types.js';
import type { PairRow } from './pairs.js';

interface Family {
  name: string;
  help: string;
  value: (s: PairSummary) => number | null;
}

const PAIR_FAMILIES: Family[] = [
  { name: 'meshperf_pair_throughput_bps', help: 'Bits per second received, summed over the pair\'s iperf3 instances.', value: (s) => s.throughput_bps },
  { name: 'meshperf_pair_pass', help: '1 when the pair passed its thresholds, 0 when it failed.', value: (s) => (s.verdict ? (s.verdict === 'pass' ? 1 : 0) : null) },
  { name: 'meshperf_pair_instances_ok', help: 'iperf3 instances of the pair that completed.', value: (s) => s.instances_ok },
  { name: 'meshperf_pair_retransmits', help: 'TCP retransmits of the pair over the test.', value: (s) => s.retransmits },
  { name: 'meshperf_pair_rtt_mean_us', help: 'TCP mean round-trip time, microseconds.', value: (s) => s.rtt_mean_us },
  { name: 'meshperf_pair_lost_percent', help: 'UDP packets lost, percent of those sent.', value: (s) => s.lost_percent },
  { name: 'meshperf_pair_jitter_ms', help: 'UDP jitter of the worst instance, milliseconds.', value: (s) => s.jitter_ms },
];

/** A label value as the exposition format needs it: backslash, quote and newline escaped. */
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) => `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;

/** `sets`: the pairs to expose, each set with labels of its own (a campaign's step); one set for a run. */
export function openMetrics(doc: ResultsDocument, sets: { labels: Record<string, string>; rows: PairRow[] }[]): string {
  const out: string[] = [];
  const run = { run_id: doc.run.id };
  const gauge = (name: string, help: string, samples: [Record<string, string>, number][]) => {
    if (!samples.length) return;
    out.push(`# TYPE ${name} gauge`, `# HELP ${name} ${help}`, ...samples.map(([l, v]) => `${name}${labels(l)} ${v}`));
  };
  for (const f of PAIR_FAMILIES) {
    const samples = sets.flatMap(({ labels: extra, rows }) =>
      rows.flatMap((r): [Record<string, string>, number][] => {
        const v = f.value(r.summary);
        return v === null ? [] : [[{ src: r.src, dst: r.dst, plane: r.plane ?? r.planes.join('+'), ...extra }, v]];
      }),
    );
    gauge(f.name, f.help, samples);
  }
  const s = doc.summary;
  gauge('meshperf_run_pairs_fail', 'Pairs of the run that failed their thresholds.', [[run, s.pairs_fail]]);
  gauge('meshperf_run_hosts_failed', 'Hosts that could not take part or were lost.', [[run, s.hosts_failed]]);
  gauge('meshperf_run_aggregate_throughput_bps', 'The most the mesh carried at once, bits per second.', [[run, s.aggregate_throughput_bps]]);
  gauge('meshperf_run_finished_timestamp_seconds', 'When the run ended, seconds since the epoch.', [[run, Date.parse(doc.run.finished_at) / 1000]]);
  gauge(
    'meshperf_suspect_confidence',
    'Likely causes of failing pairs (kind host, group or link), 0 to 1.',
    s.suspects.map((x) => [{ kind: x.kind, host: x.host ?? '', src: x.src ?? x.group?.src ?? '', dst: x.dst ?? x.group?.dst ?? '', direction: x.direction ?? '' }, x.confidence]),
  );
  out.push('# EOF');
  return out.join('\n') + '\n';
}
