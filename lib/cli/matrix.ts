/** The source x destination throughput table printed at the end of a run. */
import type { PairResult, ResultsDocument } from '../index.js';

export function formatBps(bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  return `${(bps / 1e3).toFixed(0)} kbit/s`;
}

function cell(p: PairResult | undefined): string {
  if (!p) return '-';
  const s = p.summary;
  if (s.status === 'ok') return formatBps(s.throughput_bps);
  if (s.status === 'partial') return `${formatBps(s.throughput_bps)}*`;
  if (s.status === 'interrupted') return `${formatBps(s.throughput_bps)}~`;
  return s.status === 'skipped' ? `skip:${s.error?.code}` : `FAIL:${s.error?.code}`;
}

/** Rows are sources (senders), columns destinations (receivers); notes explain failed cells. */
export function formatMatrix(doc: ResultsDocument): string {
  const names = doc.run.hosts.map((h) => h.name);
  const rows = names.map((src) => [src, ...names.map((dst) => (src === dst ? '·' : cell(doc.sources[src]?.destinations[dst])))]);
  const table = [['src \\ dst', ...names], ...rows];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  const lines = table.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  '));
  const notes: string[] = [];
  for (const h of doc.run.hosts) if (h.error) notes.push(`${h.name}: ${h.error.code}: ${h.error.message}`);
  for (const src of names) {
    for (const [dst, p] of Object.entries(doc.sources[src]?.destinations ?? {})) {
      if (p.summary.status === 'failed' || p.summary.status === 'partial') {
        notes.push(`${src} -> ${dst}: ${p.summary.instances_ok}/${p.summary.instances} ok: ${p.summary.error?.message ?? ''}`);
      }
    }
  }
  return [...lines, '', ...summaryLines(doc), ...notes.map((n) => `  ${n}`)].join('\n');
}

/** The counts, what the mesh carried at once (said for what it is under each schedule), and an interrupt. */
function summaryLines(doc: ResultsDocument): string[] {
  const s = doc.summary;
  const rounds = doc.run.rounds.length;
  const carried =
    rounds <= 1
      ? `aggregate ${formatBps(s.aggregate_throughput_bps)}`
      : `busiest round ${formatBps(s.aggregate_throughput_bps)} at once (${rounds} rounds, one after another)`;
  const lines = [`${s.pairs_ok}/${s.pairs} pairs ok, ${s.instances_ok}/${s.instances} iperf3 instances ok, ${carried}`];
  if (doc.run.interrupted) {
    lines.push(`run interrupted: ${s.instances_interrupted} instances stopped early kept what they measured (marked ~)`);
  }
  return lines;
}
