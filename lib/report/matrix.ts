/** The source x destination table printed at the end of a run (and by meshperf report), of any metric. */
import type { PairResult, PairSummary, ResultsDocument, StepLabel } from '../results/types.js';
import { stepWords, UNSTABLE_CV } from '../results/campaign.js';

export const METRICS = ['throughput', 'loss', 'jitter', 'retransmits', 'rtt'] as const;
export type Metric = (typeof METRICS)[number];

/** Higher is better only for throughput; for the others, less is better. */
export const HIGHER_IS_BETTER: Record<Metric, boolean> = { throughput: true, loss: false, jitter: false, retransmits: false, rtt: false };

export function formatBps(bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  return `${(bps / 1e3).toFixed(0)} kbit/s`;
}

/** A summary's value of a metric, as a number (null: does not apply or not measured). */
export function metricValue(s: PairSummary, metric: Metric): number | null {
  switch (metric) {
    case 'throughput':
      return s.throughput_bps;
    case 'loss':
      return s.lost_percent;
    case 'jitter':
      return s.jitter_ms;
    case 'retransmits':
      return s.retransmits;
    case 'rtt':
      return s.rtt_mean_us;
  }
}

/** A metric's value for people. */
export function formatMetric(v: number | null, metric: Metric): string {
  if (v === null) return 'n/a';
  switch (metric) {
    case 'throughput':
      return formatBps(v);
    case 'loss':
      return `${v.toFixed(2)} %`;
    case 'jitter':
      return `${v.toFixed(3)} ms`;
    case 'retransmits':
      return String(v);
    case 'rtt':
      return v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v} µs`;
  }
}

function cell(p: PairResult | undefined, plane: string | null, metric: Metric): string {
  if (!p) return '-';
  const s = plane ? p.summary.planes?.[plane] : p.summary;
  if (!s) return '-';
  if (s.status === 'skipped') return `skip:${s.error?.code}`;
  if (s.status === 'failed') return `FAIL:${s.error?.code}`;
  const mark = { ok: '', partial: '*', interrupted: '~' }[s.status] + (p.summary.verdict === 'fail' ? '!' : '');
  return formatMetric(metricValue(s, metric), metric) + mark;
}

/**
 * Rows are sources (senders), columns destinations (receivers); then the counts, the verdicts,
 * the suspects, and notes that explain failed cells. With several planes, one table per plane.
 */
export function formatMatrix(doc: ResultsDocument, metric: Metric = 'throughput'): string {
  const planes = doc.run.parameters.planes ?? [];
  const title = metric === 'throughput' ? [] : [`${metric} per pair:`];
  const tables = [...title, ...(planes.length > 1 ? planes.flatMap((p) => [`plane ${p}:`, ...table(doc, p, metric), '']) : table(doc, null, metric))];
  const names = doc.run.hosts.map((h) => h.name);
  const notes: string[] = [];
  for (const h of doc.run.hosts) if (h.error) notes.push(`${h.name}: ${h.error.code}: ${h.error.message}`);
  for (const src of names) {
    for (const [dst, p] of Object.entries(doc.sources[src]?.destinations ?? {})) {
      if (p.summary.status === 'failed' || p.summary.status === 'partial') {
        notes.push(`${src} -> ${dst}: ${p.summary.instances_ok}/${p.summary.instances} ok: ${p.summary.error?.message ?? ''}`);
      }
    }
  }
  const main = [...tables, ...(planes.length > 1 ? [] : ['']), ...summaryLines(doc), ...suspectLines(doc), ...notes.map((n) => `  ${n}`)];
  return (doc.steps ? [`step 1 of ${doc.steps.length}: ${stepName(doc.steps[0]!)}`, ...main, '', ...campaignLines(doc)] : main).join('\n');
}

function stepName(s: StepLabel): string {
  return `${stepWords(s.profile, s.point)}, repetition ${s.repetition}`;
}

/** A campaign's steps, one line each, and the pairs whose readings varied over repetitions. */
function campaignLines(doc: ResultsDocument): string[] {
  const c = doc.run.campaign!;
  const lines = [`campaign: ${c.steps_run} of ${c.steps} steps run, over one connection to each host`];
  for (const s of doc.steps!) {
    const m = s.summary;
    lines.push(`  ${s.index + 1}. ${stepName(s)}: ${m.pairs_ok}/${m.pairs} pairs ok, ${m.pairs_fail} fail, median pair ${m.median_pair_throughput_bps === null ? '—' : formatBps(m.median_pair_throughput_bps)}${s.interrupted ? ' (interrupted)' : ''}`);
    const r = s.median_summary;
    // Once per profile and point, after its last repetition: the verdict on the medians.
    if (r && s.repetition === r.repetitions) {
      const first = r.suspects[0];
      lines.push(`     over its ${r.repetitions} repetitions, on each pair's median: ${r.pairs_fail ? `${r.pairs_fail} pairs fail` : `all ${r.pairs_pass} pairs pass`}${first ? `; first suspect: ${first.evidence}` : ''}`);
    }
  }
  const unstable = new Set<string>();
  for (const s of doc.steps!) {
    for (const [src, { destinations }] of Object.entries(s.sources)) {
      for (const [dst, p] of Object.entries(destinations)) if (p.summary.unstable) unstable.add(`${src} -> ${dst} (${stepWords(s.profile, s.point)}: throughput cv ${p.summary.stats?.throughput_bps?.cv})`);
    }
  }
  const knees = Object.entries(doc.sources).flatMap(([src, { destinations }]) => Object.entries(destinations).flatMap(([dst, p]) => (p.summary.knee_bps !== undefined ? [{ pair: `${src} -> ${dst}`, knee: p.summary.knee_bps }] : [])));
  if (knees.length) {
    knees.sort((a, b) => (a.knee ?? -1) - (b.knee ?? -1));
    lines.push(`knee, the highest rate within max_loss_percent, lowest first:`, ...knees.slice(0, 12).map((k) => `  ${k.pair}: ${k.knee === null ? 'below the lowest rate tried' : formatBps(k.knee)}`), ...(knees.length > 12 ? [`  … ${knees.length - 12} more in results.json (knee_bps)`] : []));
  }
  if (unstable.size) lines.push(`unstable over repetitions (throughput varies by more than ${UNSTABLE_CV * 100} %):`, ...[...unstable].map((u) => `  ${u}`));
  return lines;
}

function table(doc: ResultsDocument, plane: string | null, metric: Metric): string[] {
  // Every host, unless a filter (meshperf report --src/--dst) left some without a pair.
  const names = doc.run.hosts.map((h) => h.name);
  const srcs = names.filter((n) => Object.keys(doc.sources[n]?.destinations ?? {}).length > 0);
  const dsts = names.filter((n) => Object.values(doc.sources).some((s) => n in s.destinations));
  const rows = srcs.map((src) => [src, ...dsts.map((dst) => (src === dst ? '·' : cell(doc.sources[src]?.destinations[dst], plane, metric)))]);
  const table = [['src \\ dst', ...dsts], ...rows];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  return table.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  '));
}

/** The counts, what the mesh carried at once (said for what it is under each schedule), the verdicts, an interrupt. */
function summaryLines(doc: ResultsDocument): string[] {
  const s = doc.summary;
  const rounds = doc.run.rounds.length;
  const carried =
    rounds <= 1
      ? `aggregate ${formatBps(s.aggregate_throughput_bps)}`
      : `busiest round ${formatBps(s.aggregate_throughput_bps)} at once (${rounds} rounds, one after another)`;
  // Skipped pairs never ran: said apart, so that "2/6 ok" is not read as 2 of 6 measurements.
  const skipped = s.pairs_skipped ? ` (${s.pairs_skipped} skipped: a host could not take part; ${s.pairs_ok}/${s.pairs - s.pairs_skipped} of those measured)` : '';
  const lines = [`${s.pairs_ok}/${s.pairs} pairs ok${skipped}, ${s.instances_ok}/${s.instances} iperf3 instances ok, ${carried}`];
  if (s.pairs_pass !== undefined) {
    const median = s.median_pair_throughput_bps === null ? '' : ` (median pair ${formatBps(s.median_pair_throughput_bps)})`;
    lines.push(s.pairs_fail ? `verdict: ${s.pairs_fail}/${s.pairs} pairs FAIL their thresholds (marked !)${median}` : `verdict: all ${s.pairs_pass} pairs pass${median}`);
  }
  if (doc.run.interrupted) {
    lines.push(`run interrupted: ${s.instances_interrupted} instances stopped early kept what they measured (marked ~)`);
  }
  return lines;
}

function suspectLines(doc: ResultsDocument): string[] {
  const suspects = doc.summary.suspects ?? [];
  if (!suspects.length) return [];
  return [
    'suspects, most likely first:',
    ...suspects.map((s, i) => {
      const who = s.kind === 'host' ? `host ${s.host} (${s.direction})` : s.kind === 'link' ? `link ${s.src} -> ${s.dst}` : `group ${s.group!.key}=${s.group!.src} -> ${s.group!.key}=${s.group!.dst}`;
      return `  ${i + 1}. ${who}, confidence ${s.confidence}: ${s.evidence}`;
    }),
  ];
}
