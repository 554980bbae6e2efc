/**
 * report.html's campaign section: each step in a line, and each pair against the sweep: one
 * column per profile and sweep point, each cell its median throughput over the repetitions drawn
 * as a bar (the widest cell of the table is full width), with its loss for UDP and its spread; a
 * pair whose readings flapped is marked unstable. Without steps: nothing.
 */
import type { PairSummary, ResultsDocument, StepResult } from '../results/types.js';
import { groupSteps, stepWords } from '../results/campaign.js';
import { esc } from './html-page.js';
import { formatBps } from './matrix.js';

/** Most pairs the table lists: the section stays readable; results.json has them all. */
const MAX_PAIRS = 400;

export function campaignSection(doc: ResultsDocument): string {
  if (!doc.steps) return '';
  // Headed in words, with the rate as people read it.
  const groups = new Map(groupSteps(doc.steps).map((g) => [stepWords(g[0]!.profile, Object.fromEntries(Object.entries(g[0]!.point).map(([k, v]) => [k, k === 'bitrate' && typeof v === 'number' ? formatBps(v) : v]))), g] as const));
  const pairs = [...new Set(doc.steps.flatMap((s) => Object.entries(s.sources).flatMap(([src, { destinations }]) => Object.keys(destinations).map((dst) => `${src}>${dst}`))))];
  const shown = pairs.slice(0, MAX_PAIRS);
  const summaryOf = (g: StepResult[], key: string): PairSummary | undefined => {
    const [src, dst] = key.split('>') as [string, string];
    return g.map((s) => s.sources[src]?.destinations[dst]?.summary).find((p) => p !== undefined);
  };
  const median = (p: PairSummary | undefined) => p?.stats?.throughput_bps?.median ?? p?.throughput_bps ?? null;
  const widest = Math.max(1, ...shown.flatMap((k) => [...groups.values()].map((g) => median(summaryOf(g, k)) ?? 0)));
  const cell = (p: PairSummary | undefined) => {
    const m = median(p);
    if (m === null || !p) return '<td></td>';
    const loss = p.stats?.lost_percent?.median ?? p.lost_percent;
    const spread = p.stats?.throughput_bps && p.stats.throughput_bps.n > 1 ? ` ±${Math.round((p.stats.throughput_bps.cv ?? 0) * 100)} %` : '';
    return `<td class="${p.unstable ? 'bad unstable' : ''}" data-bps="${m}"><div class="bar" style="width:${((100 * m) / widest).toFixed(1)}%"></div>${esc(formatBps(m))}${spread}${loss === null || loss === undefined ? '' : ` · ${loss.toFixed(1)} % lost`}${p.unstable ? ' · unstable' : ''}</td>`;
  };
  const steps = doc.steps
    .map((s) => `<li>${esc(`${stepWords(s.profile, s.point)}, repetition ${s.repetition}`)}: ${s.summary.pairs_ok}/${s.summary.pairs} pairs ok, ${s.summary.pairs_fail} fail, median pair ${s.summary.median_pair_throughput_bps === null ? 'n/a' : esc(formatBps(s.summary.median_pair_throughput_bps))}${s.interrupted ? ' (interrupted)' : ''}</li>`)
    .join('');
  const c = doc.run.campaign;
  return `<section><h2>Campaign: ${c ? `${c.steps_run} of ${c.steps}` : doc.steps.length} steps</h2>
<p class="note">Each pair against the sweep: per profile and sweep point, its median throughput over the repetitions (± its coefficient of variation), the bar scaled to the highest in the table. The matrix above is the first step's.</p>
<table id="campaign"><tr><th>pair</th>${[...groups.keys()].map((k) => `<th>${esc(k)}</th>`).join('')}</tr>${shown
    .map((k) => `<tr data-pair="${esc(k)}"><td>${esc(k.replace('>', ' → '))}</td>${[...groups.values()].map((g) => cell(summaryOf(g, k))).join('')}</tr>`)
    .join('')}</table>${pairs.length > shown.length ? `<p class="note">${pairs.length - shown.length} more pairs in results.json.</p>` : ''}
<ol id="steps">${steps}</ol></section>`;
}
