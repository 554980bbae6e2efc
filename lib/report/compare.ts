/**
 * Two runs compared pair by pair (and plane by plane when both measured several): the change of
 * each metric, those that moved beyond a tolerance, worst first. Throughput regresses when it
 * falls; loss, jitter, retransmits and RTT when they rise. A change must also exceed the metric's
 * smallest step worth a word (1 retransmit -> 4 is +300 % and nothing), and a change from 0 is
 * judged by that step alone, since no percentage of 0 means anything. By default throughput and
 * loss count: RTT and retransmits of a loaded mesh swing by multiples from run to run.
 */
import type { PairSummary, ResultsDocument } from '../results/types.js';
import { pairsOf } from '../results/verdict/judge.js';
import { esc } from './html.js';
import { formatMetric, HIGHER_IS_BETTER, Metric, METRICS, metricValue } from './matrix.js';

export interface MetricChange {
  src: string;
  dst: string;
  /** null: the pair over all its planes. */
  plane: string | null;
  metric: Metric;
  base: number;
  new: number;
  /** (new − base) / base, percent; null when base is 0. */
  change_percent: number | null;
  /** Worse beyond the tolerance (or, from 0, beyond the metric's smallest step worth a word). */
  regressed: boolean;
}

export interface Comparison {
  base: { id: string; started_at: string };
  new: { id: string; started_at: string };
  tolerance_percent: number;
  /** The metrics compared. */
  metrics: Metric[];
  pairs_compared: number;
  /** What moved beyond the tolerance, regressions first, then the largest change. */
  changes: MetricChange[];
  regressions: number;
  /** "src>dst" of pairs measured in one run only. */
  only_in_base: string[];
  only_in_new: string[];
}

/** The smallest change worth a word: 1 Mbit/s, 0.1 % loss, 0.1 ms jitter, 10 retransmits, 100 µs RTT. */
const MIN_STEP: Record<Metric, number> = { throughput: 1e6, loss: 0.1, jitter: 0.1, retransmits: 10, rtt: 100 };

/** Each measured pair's summary, per plane when `perPlane`. */
function summaries(doc: ResultsDocument, perPlane: boolean): Map<string, { src: string; dst: string; plane: string | null; s: PairSummary }> {
  const out = new Map<string, { src: string; dst: string; plane: string | null; s: PairSummary }>();
  for (const [src, dst, p] of pairsOf(doc)) {
    if (p.summary.status === 'skipped' || p.summary.status === 'failed') continue;
    if (perPlane && p.summary.planes) for (const [plane, s] of Object.entries(p.summary.planes)) out.set(`${src}>${dst}:${plane}`, { src, dst, plane, s });
    else out.set(`${src}>${dst}`, { src, dst, plane: null, s: p.summary });
  }
  return out;
}

export const DEFAULT_COMPARED: Metric[] = ['throughput', 'loss'];

export function compareResults(base: ResultsDocument, next: ResultsDocument, tolerancePercent: number, metrics: readonly Metric[] = DEFAULT_COMPARED): Comparison {
  const perPlane = base.run.parameters.planes.length > 1 && next.run.parameters.planes.length > 1;
  const a = summaries(base, perPlane);
  const b = summaries(next, perPlane);
  const changes: MetricChange[] = [];
  for (const [key, x] of a) {
    const y = b.get(key);
    if (!y) continue;
    for (const metric of METRICS.filter((m) => metrics.includes(m))) {
      const [v0, v1] = [metricValue(x.s, metric), metricValue(y.s, metric)];
      if (v0 === null || v1 === null) continue;
      const change = v0 === 0 ? null : ((v1 - v0) / Math.abs(v0)) * 100;
      const worse = HIGHER_IS_BETTER[metric] ? v1 < v0 : v1 > v0;
      const beyond = Math.abs(v1 - v0) >= MIN_STEP[metric] && (change === null || Math.abs(change) > tolerancePercent);
      if (!beyond) continue;
      changes.push({ src: x.src, dst: x.dst, plane: x.plane, metric, base: v0, new: v1, change_percent: change === null ? null : Math.round(change * 10) / 10, regressed: worse });
    }
  }
  const size = (c: MetricChange) => (c.change_percent === null ? Infinity : Math.abs(c.change_percent));
  // Regressions first; throughput before the others (METRICS order); then the largest change.
  const rank = (c: MetricChange) => METRICS.indexOf(c.metric);
  changes.sort((p, q) => Number(q.regressed) - Number(p.regressed) || rank(p) - rank(q) || size(q) - size(p));
  const pairKey = (k: string) => k.replace(/:[^>]*$/, '');
  return {
    base: { id: base.run.id, started_at: base.run.started_at },
    new: { id: next.run.id, started_at: next.run.started_at },
    tolerance_percent: tolerancePercent,
    metrics: METRICS.filter((m) => metrics.includes(m)),
    pairs_compared: [...a.keys()].filter((k) => b.has(k)).length,
    changes,
    regressions: changes.filter((c) => c.regressed).length,
    only_in_base: [...new Set([...a.keys()].filter((k) => !b.has(k)).map(pairKey))],
    only_in_new: [...new Set([...b.keys()].filter((k) => !a.has(k)).map(pairKey))],
  };
}

const pairName = (c: MetricChange) => `${c.src} -> ${c.dst}${c.plane ? ` (${c.plane})` : ''}`;
const changeText = (c: MetricChange) => `${formatMetric(c.base, c.metric)} -> ${formatMetric(c.new, c.metric)} (${c.change_percent === null ? 'from 0' : `${c.change_percent > 0 ? '+' : ''}${c.change_percent} %`})`;

/** For people: one line per change, worst first. */
export function comparisonText(c: Comparison): string {
  const lines = [`compared ${c.pairs_compared} pairs (${c.metrics.join(', ')}): ${c.base.id} (base) -> ${c.new.id}, tolerance ${c.tolerance_percent} %`];
  if (!c.changes.length) lines.push('nothing moved beyond the tolerance');
  for (const x of c.changes) lines.push(`  ${x.regressed ? 'REGRESSED' : 'improved '} ${pairName(x)} ${x.metric}: ${changeText(x)}`);
  if (c.only_in_base.length) lines.push(`only in the base run: ${c.only_in_base.join(', ')}`);
  if (c.only_in_new.length) lines.push(`only in the new run: ${c.only_in_new.join(', ')}`);
  lines.push(c.regressions ? `${c.regressions} regression(s) beyond ${c.tolerance_percent} %` : 'no regression');
  return lines.join('\n') + '\n';
}

export function comparisonMarkdown(c: Comparison): string {
  const out = [`## meshperf compare: ${c.new.id} against ${c.base.id}`, '', `${c.pairs_compared} pairs compared, tolerance ${c.tolerance_percent} %: ` + (c.regressions ? `**${c.regressions} regression(s)**` : 'no regression'), ''];
  if (c.changes.length) {
    out.push('| | pair | metric | base | new | change |', '|---|---|---|---:|---:|---:|');
    for (const x of c.changes) out.push(`| ${x.regressed ? '❌' : '✅'} | ${pairName(x).replace('->', '→')} | ${x.metric} | ${formatMetric(x.base, x.metric)} | ${formatMetric(x.new, x.metric)} | ${x.change_percent === null ? 'from 0' : `${x.change_percent} %`} |`);
  }
  if (c.only_in_base.length) out.push('', `Only in the base run: ${c.only_in_base.join(', ')}`);
  if (c.only_in_new.length) out.push('', `Only in the new run: ${c.only_in_new.join(', ')}`);
  return out.join('\n') + '\n';
}

export function comparisonHtml(c: Comparison): string {
  const rows = c.changes
    .map((x) => `<tr data-src="${esc(x.src)}" data-dst="${esc(x.dst)}" data-metric="${x.metric}" data-regressed="${x.regressed}"><td>${x.regressed ? '❌' : '✅'}</td><td>${esc(pairName(x))}</td><td>${x.metric}</td><td>${esc(formatMetric(x.base, x.metric))}</td><td>${esc(formatMetric(x.new, x.metric))}</td><td>${x.change_percent === null ? 'from 0' : `${x.change_percent} %`}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>meshperf compare</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3em .6em}</style></head><body>
<h1>meshperf compare: ${esc(c.new.id)} against ${esc(c.base.id)}</h1><p>${c.pairs_compared} pairs compared, tolerance ${c.tolerance_percent} %: ${c.regressions ? `<b>${c.regressions} regression(s)</b>` : 'no regression'}</p>
<table id="changes"><tr><th></th><th>pair</th><th>metric</th><th>base</th><th>new</th><th>change</th></tr>${rows}</table>
${c.only_in_base.length ? `<p>Only in the base run: ${esc(c.only_in_base.join(', '))}</p>` : ''}${c.only_in_new.length ? `<p>Only in the new run: ${esc(c.only_in_new.join(', '))}</p>` : ''}
</body></html>
`;
}
