/**
 * report.html: one self-contained page (no network, nothing fetched; it works from a mail
 * attachment) with the heatmap of any metric, per-host egress and ingress, A→B against B→A,
 * the verdicts and suspects, what failed and why, each host's health, and every flow's
 * per-second throughput on the controller's clock. The tables are written here, so the page
 * reads without script; the script only recolours the heatmap for another metric and draws the
 * timeline with uPlot (inlined at build time: a 50 kB canvas chart that stays fast with
 * hundreds of series, where hand-written SVG would need its own axes, scaling and hover).
 */
import type { HostResult, ResultsDocument } from '../results/types.js';
import { formatBps, formatMetric, Metric, METRICS, metricValue } from './matrix.js';
import { suspectText } from './markdown.js';
import { PairRow } from './pairs.js';
import { timeline } from './timeline.js';
import { uplot } from './uplot.js';
import { esc, PAGE_CSS, PAGE_SCRIPT } from './html-page.js';
import { campaignSection } from './html-campaign.js';

export { esc } from './html-page.js';
/** JSON inside a <script> element: nothing in it may close the element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

export function html(doc: ResultsDocument, rows: PairRow[], metric: Metric = 'throughput'): string {
  const s = doc.summary;
  const p = doc.run.parameters;
  const title = `meshperf ${doc.run.id}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${uplot().css}${PAGE_CSS}</style></head>
<body>
<header><h1>${esc(title)}</h1>
<p>${esc(doc.run.started_at)} · ${s.hosts} hosts · ${esc(p.protocol.toUpperCase())} · schedule ${esc(p.schedule)} · ${p.duration} s · ${p.processes} process(es) per pair · planes ${esc(p.planes.join(', '))}</p>
<p class="${s.pairs_fail ? 'bad' : 'good'}" id="verdict">${s.pairs_fail ? `${s.pairs_fail} of ${s.pairs} pairs fail their thresholds` : `all ${s.pairs} pairs pass`} · median pair ${s.median_pair_throughput_bps === null ? 'n/a' : formatBps(s.median_pair_throughput_bps)} · ${s.hosts_failed} host(s) failed · aggregate ${formatBps(s.aggregate_throughput_bps)}</p></header>
${warnings(doc)}
${suspects(doc)}
${campaignSection(doc)}
<section><h2>Heatmap</h2>
<label>metric <select id="metric">${METRICS.map((m) => `<option${m === metric ? ' selected' : ''}>${m}</option>`).join('')}</select></label>
${heatmap(doc, rows, metric)}
<p class="note">Rows send, columns receive. A framed cell marked ! is a pair that fails its thresholds. The last column and row are each host's egress and ingress.</p></section>
${asymmetry(rows)}
${failures(doc, rows)}
${health(doc.run.hosts)}
<section><h2>Every flow, second by second</h2>
<p class="note">Each instance's per-second throughput on the controller's clock, drawn from when its traffic really began (its first data stream); the thick line is the whole mesh.</p>
<div id="timeline"></div></section>
<script type="application/json" id="timeline-data">${scriptJson(timeline(doc))}</script>
<script>${uplot().js}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

/** What the run warns of (a round whose flows did not overlap, a link that moved other traffic), above everything else. */
function warnings(doc: ResultsDocument): string {
  const list = doc.run.warnings;
  if (!list.length) return '';
  return `<section><h2>Warnings</h2><ul id="warnings" class="bad">${list.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></section>`;
}

function suspects(doc: ResultsDocument): string {
  const list = doc.summary.suspects;
  if (!list.length) return '';
  return `<section><h2>Suspects, most likely first</h2><ol id="suspects">${list
    .map((x) => `<li data-kind="${x.kind}"${x.host ? ` data-host="${esc(x.host)}"` : ''}><b>${esc(suspectText(x))}</b>: ${esc(x.evidence)}</li>`)
    .join('')}</ol></section>`;
}

/** A cell's value for every metric, so the script can switch without the results. */
function cellData(r: PairRow): string {
  return METRICS.map((m) => ` data-${m}="${metricValue(r.summary, m) ?? ''}"`).join('');
}

function heatmap(doc: ResultsDocument, rows: PairRow[], metric: Metric): string {
  const names = doc.run.hosts.map((h) => h.name);
  const srcs = names.filter((n) => rows.some((r) => r.src === n));
  const dsts = names.filter((n) => rows.some((r) => r.dst === n));
  const at = new Map(rows.map((r) => [`${r.src}>${r.dst}`, r]));
  const sum = (list: PairRow[]) => formatBps(list.reduce((a, r) => a + r.summary.throughput_bps, 0));
  const cell = (src: string, dst: string) => {
    if (src === dst) return '<td class="self">·</td>';
    const r = at.get(`${src}>${dst}`);
    if (!r) return '<td class="none"></td>';
    const v = metricValue(r.summary, metric);
    const state = r.summary.status === 'skipped' || r.summary.status === 'failed' ? r.summary.status : r.summary.verdict ?? '';
    const text = state === 'skipped' || state === 'failed' ? state : `${formatMetric(v, metric)}${r.summary.verdict === 'fail' ? ' !' : ''}`;
    const why = (r.summary.reasons ?? []).map((x) => x.message).join('; ');
    return `<td class="cell" data-src="${esc(src)}" data-dst="${esc(dst)}" data-value="${v ?? ''}" data-verdict="${esc(state)}"${cellData(r)} title="${esc(`${src} → ${dst}${why ? `: ${why}` : ''}`)}">${esc(text)}</td>`;
  };
  const head = `<tr><th>src \\ dst</th>${dsts.map((d) => `<th>${esc(d)}</th>`).join('')}<th class="total">egress</th></tr>`;
  const body = srcs.map((s) => `<tr><th>${esc(s)}</th>${dsts.map((d) => cell(s, d)).join('')}<td class="total" data-egress="${esc(s)}">${sum(rows.filter((r) => r.src === s))}</td></tr>`).join('');
  const foot = `<tr><th class="total">ingress</th>${dsts.map((d) => `<td class="total" data-ingress="${esc(d)}">${sum(rows.filter((r) => r.dst === d))}</td>`).join('')}<td></td></tr>`;
  return `<table id="heatmap" data-metric="${metric}">${head}${body}${foot}</table>`;
}

/** A→B against B→A, most lopsided first: a duplex mismatch or a one-way fault shows here. */
function asymmetry(rows: PairRow[]): string {
  const at = new Map(rows.map((r) => [`${r.src}>${r.dst}`, r]));
  const pairs = rows
    .filter((r) => r.src < r.dst && at.has(`${r.dst}>${r.src}`))
    .map((r) => {
      const back = at.get(`${r.dst}>${r.src}`)!;
      const [a, b] = [r.summary.throughput_bps, back.summary.throughput_bps];
      return { a: r.src, b: r.dst, ab: a, ba: b, ratio: Math.max(a, b) ? Math.min(a, b) / Math.max(a, b) : 1 };
    })
    .sort((x, y) => x.ratio - y.ratio)
    .slice(0, 30);
  if (!pairs.length) return '';
  return `<section><h2>A → B against B → A</h2><table id="asymmetry"><tr><th>A</th><th>B</th><th>A → B</th><th>B → A</th><th>lower / higher</th></tr>${pairs
    .map((x) => `<tr><td>${esc(x.a)}</td><td>${esc(x.b)}</td><td>${formatBps(x.ab)}</td><td>${formatBps(x.ba)}</td><td class="${x.ratio < 0.5 ? 'bad' : ''}">${Math.round(x.ratio * 100)} %</td></tr>`)
    .join('')}</table></section>`;
}

function failures(doc: ResultsDocument, rows: PairRow[]): string {
  const hosts = doc.run.hosts.filter((h) => h.error);
  const pairs = rows.filter((r) => r.summary.verdict === 'fail');
  if (!hosts.length && !pairs.length) return '';
  return `<section><h2>What failed, and why</h2><ul id="failures">${[
    ...hosts.map((h) => `<li data-host="${esc(h.name)}"><b>${esc(h.name)}</b>: ${esc(h.error!.code)}: ${esc(h.error!.message)}</li>`),
    ...pairs.map((r) => `<li data-src="${esc(r.src)}" data-dst="${esc(r.dst)}"><b>${esc(r.src)} → ${esc(r.dst)}</b>: ${esc((r.summary.reasons ?? []).map((x) => x.message).join('; '))}${r.retest ? ` · alone: ${formatBps(r.retest.throughput_bps)}, ${r.retest.verdict}` : ''}</li>`),
  ].join('')}</ul></section>`;
}

/** A host's test connections that worked, of those it took part in: its daemon's success rate. */
function connectionsCell(h: HostResult): string {
  const c = h.connections;
  if (!c || c.success_rate === null) return '<td class="connections"></td>';
  const role = (x: { ok: number; total: number }) => `${x.ok}/${x.total}`;
  return `<td class="connections ${c.success_rate === 1 ? 'good' : 'bad'}">${Math.round(c.success_rate * 1000) / 10} % (${role(c.as_client)}, ${role(c.as_server)})</td>`;
}

function health(hosts: HostResult[]): string {
  const maxCpu = (h: HostResult) => {
    const v = (h.health ?? []).map((x) => x.host_cpu_percent).filter((x): x is number => typeof x === 'number');
    return v.length ? `${Math.round(Math.max(...v))} %` : '';
  };
  const nics = (h: HostResult) => (h.interfaces ?? []).map((i) => `${i.plane}: ${i.name} mtu ${i.mtu ?? '?'}${i.speed_mbps ? ` ${i.speed_mbps} Mbit/s` : ''}`).join('<br>');
  return `<section><h2>Hosts</h2><table id="hosts"><tr><th>host</th><th>status</th><th>iperf3</th><th>cpus</th><th>clock offset</th><th>RPC latency</th><th>host CPU (peak)</th><th>connections ok (as client, as server)</th><th>interfaces</th></tr>${hosts
    .map(
      (h) =>
        `<tr data-host="${esc(h.name)}"><td>${esc(h.name)}</td><td class="${h.status === 'ok' ? 'good' : 'bad'}">${h.status}${h.error ? `: ${esc(h.error.code)}` : ''}</td><td>${esc(h.iperf3_version ?? '')}</td><td>${h.cpus?.length ?? ''}</td>` +
        `<td>${h.clock_offset_ms === undefined ? '' : `${h.clock_offset_ms.toFixed(1)} ms`}</td><td>${h.rpc_latency_ms ? `${h.rpc_latency_ms.mean_ms.toFixed(1)} ms` : ''}</td><td>${maxCpu(h)}</td>${connectionsCell(h)}<td>${nics(h)}</td></tr>`,
    )
    .join('')}</table></section>`;
}
