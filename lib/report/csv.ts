/** A report as CSV: one row per pair, with its metrics, its verdict and, with --retest, its reading alone. */
import { stringify } from 'csv-stringify/sync';
import type { ResultsDocument } from '../results/types.js';
import type { PairRow } from './pairs.js';

export const PAIR_CSV_COLUMNS = [
  'run_id', 'source', 'destination', 'plane', 'status', 'verdict', 'reasons',
  'throughput_bps', 'sent_bps', 'retransmits', 'rtt_min_us', 'rtt_mean_us', 'rtt_max_us',
  'lost_packets', 'packets', 'lost_percent', 'jitter_ms', 'out_of_order', 'instances', 'instances_ok',
  'retest_throughput_bps', 'retest_verdict',
] as const;

export function pairsCsv(doc: ResultsDocument, rows: PairRow[]): string {
  const blank = (v: unknown) => (v === null || v === undefined ? '' : v);
  const records = rows.map((r) => {
    const s = r.summary;
    return [
      doc.run.id, r.src, r.dst, r.plane ?? r.planes.join(' '), s.status, s.verdict ?? '', (s.reasons ?? []).map((x) => x.message).join('; '),
      s.throughput_bps, s.sent_bps, s.retransmits, s.rtt_min_us, s.rtt_mean_us, s.rtt_max_us,
      s.lost_packets, s.packets, s.lost_percent, s.jitter_ms, s.out_of_order, s.instances, s.instances_ok,
      r.retest?.throughput_bps, r.retest?.verdict,
    ].map(blank);
  });
  return stringify(records, { header: true, columns: [...PAIR_CSV_COLUMNS] });
}
