/** The source x destination throughput table printed at the end of a run. */
import type { PairResult, ResultsDocument } from '../index.js';

export function formatBps(bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  return `${(bps / 1e3).toFixed(0)} kbit/s`;
}

function cell(p: PairResult | undefined, plane: string | null): string {
  if (!p) return '-';
  const s = plane ? p.summary.planes?.[plane] : p.summary;
  if (!s) return '-';
  if (s.status === 'ok') return formatBps(s.throughput_bps);
  if (s.status === 'partial') return `${formatBps(s.throughput_bps)}*`;
  if (s.status === 'interrupted') return `${formatBps(s.throughput_bps)}~`;
  return s.status === 'skipped' ? `skip:${s.error?.code}` : `FAIL:${s.error?.code}`;
}

/**
 * Rows are sources (senders), columns destinations (receivers); notes explain failed cells.
 * With several planes, one table per plane.
 */
export function formatMatrix(doc: ResultsDocument): string {
  const planes = doc.run.parameters.planes ?? [];
  const tables = planes.length > 1 ? planes.flatMap((p) => [`plane ${p}:`, ...table(doc, p), '']) : table(doc, null);
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
  return [...tables, ...(planes.length > 1 ? [] : ['']), ...summaryLines(doc), ...notes.map((n) => `  ${n}`)].join('\n');
}

function table(doc: ResultsDocument, plane: string | null): string[] {
  const names = doc.run.hosts.map((h) => h.name);
  const rows = names.map((src) => [src, ...names.map((dst) => (src === dst ? '·' : cell(doc.sources[src]?.destinations[dst], plane)))]);
  const table = [['src \\ dst', ...names], ...rows];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  return table.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  '));
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
