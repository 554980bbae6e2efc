/** A report as Markdown, for a CI comment or a ticket: the matrix of one metric, the verdicts, the suspects. */
import type { ResultsDocument, Suspect } from '../results/types.js';
import { formatBps, formatMetric, Metric, metricValue } from './matrix.js';
import type { PairRow } from './pairs.js';

const cellText = (r: PairRow | undefined, metric: Metric) => {
  if (!r) return '';
  if (r.summary.status === 'skipped' || r.summary.status === 'failed') return `**${r.summary.status}**`;
  const v = formatMetric(metricValue(r.summary, metric), metric);
  return r.summary.verdict === 'fail' ? `**${v}** ❌` : v;
};

export function suspectText(s: Suspect): string {
  const who = s.kind === 'host' ? `host ${s.host} (${s.direction})` : s.kind === 'link' ? `link ${s.src} → ${s.dst}` : `group ${s.group!.key}=${s.group!.src} → ${s.group!.key}=${s.group!.dst}`;
  return `${who}, confidence ${s.confidence}`;
}

export function markdown(doc: ResultsDocument, rows: PairRow[], metric: Metric): string {
  const s = doc.summary;
  const names = doc.run.hosts.map((h) => h.name);
  const srcs = names.filter((n) => rows.some((r) => r.src === n));
  const dsts = names.filter((n) => rows.some((r) => r.dst === n));
  const at = new Map(rows.map((r) => [`${r.src}>${r.dst}`, r]));
  const out = [
    `## meshperf run ${doc.run.id}`,
    '',
    `${doc.run.started_at} · ${s.hosts} hosts · ${doc.run.parameters.protocol.toUpperCase()} · schedule ${doc.run.parameters.schedule} · ${doc.run.parameters.duration} s · ` +
      `median pair ${s.median_pair_throughput_bps === null ? 'n/a' : formatBps(s.median_pair_throughput_bps)}`,
    '',
    s.pairs_fail ? `**${s.pairs_fail} of ${s.pairs} pairs fail their thresholds.**` : `All ${s.pairs} pairs pass.`,
    '',
    `| ${metric}: src \\ dst | ${dsts.join(' | ')} |`,
    `|---|${dsts.map(() => '---:').join('|')}|`,
    ...srcs.map((src) => `| **${src}** | ${dsts.map((dst) => (src === dst ? '·' : cellText(at.get(`${src}>${dst}`), metric))).join(' | ')} |`),
  ];
  if (s.suspects.length) out.push('', '### Suspects, most likely first', '', ...s.suspects.map((x, i) => `${i + 1}. **${suspectText(x)}**: ${x.evidence}`));
  const failing = rows.filter((r) => r.summary.verdict === 'fail');
  if (failing.length) {
    out.push('', '### Failing pairs', '', '| pair | why |', '|---|---|');
    out.push(...failing.map((r) => `| ${r.src} → ${r.dst}${r.plane ? ` (${r.plane})` : ''} | ${(r.summary.reasons ?? []).map((x) => x.message).join('; ')} |`));
  }
  return out.join('\n') + '\n';
}
