/**
 * Verdicts: each pair against the thresholds, with the reasons it failed. Pure: it reads the
 * results document and writes `verdict` and `reasons` into its pair summaries.
 */
import type { PairResult, PairSummary, ResultsDocument, VerdictReason } from '../types.js';
import { lineRates } from './line-rate.js';
import type { Thresholds } from './thresholds.js';

/**
 * Pairs that measured something: complete, partial, or cut short by an interrupt after iperf3
 * printed an interval. One stopped before its first interval read nothing: counting its 0 would
 * pull the median down (to 0 when most pairs were stopped that early) and let it pass.
 */
export const hasReading = (s: PairSummary) => s.status === 'ok' || s.status === 'partial' || (s.status === 'interrupted' && s.throughput_bps > 0);

export function median(values: number[]): number | null {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Every pair of the document as [src, dst, pair]. */
export function pairsOf(doc: ResultsDocument): [string, string, PairResult][] {
  return Object.entries(doc.sources).flatMap(([src, { destinations }]) => Object.entries(destinations).map(([dst, p]) => [src, dst, p] as [string, string, PairResult]));
}

/** The run's median pair throughput: what "a pair of this mesh" carries, the reference of min_percent_of_median. */
export function medianPair(doc: ResultsDocument): number | null {
  return median(pairsOf(doc).filter(([, , p]) => hasReading(p.summary)).map(([, , p]) => p.summary.throughput_bps));
}

/** A rate in the words of verdicts and suspects. */
export const rate = (bps: number) => (bps >= 1e9 ? `${(bps / 1e9).toFixed(2)} Gbit/s` : `${(bps / 1e6).toFixed(1)} Mbit/s`);
const pct = (a: number, b: number) => Math.round((a / b) * 1000) / 10;

/** Why a summary fails the thresholds (empty: it passes). `medianBps` is the run's reference. */
export function reasons(s: PairSummary, t: Thresholds, medianBps: number | null, lineRate: number | null): VerdictReason[] {
  if (!hasReading(s)) return [{ threshold: 'status', value: null, limit: null, message: `not measured: ${s.status}${s.error ? ` (${s.error.code}: ${s.error.message})` : ''}` }];
  const out: VerdictReason[] = [];
  const bps = s.throughput_bps;
  if (s.status === 'partial') out.push({ threshold: 'status', value: s.instances_ok, limit: s.instances, message: `only ${s.instances_ok} of ${s.instances} instances measured` });
  if (t.min_throughput !== null && bps < t.min_throughput) {
    out.push({ threshold: 'min_throughput', value: bps, limit: t.min_throughput, message: `${rate(bps)} is below the minimum ${rate(t.min_throughput)}` });
  }
  if (t.min_percent_of_median !== null && medianBps) {
    const limit = (medianBps * t.min_percent_of_median) / 100;
    if (bps < limit) out.push({ threshold: 'min_percent_of_median', value: pct(bps, medianBps), limit: t.min_percent_of_median, message: `${rate(bps)} is ${pct(bps, medianBps)} % of the median pair (${rate(medianBps)}), below ${t.min_percent_of_median} %` });
  }
  if (t.min_percent_of_line_rate !== null && lineRate) {
    const limit = (lineRate * t.min_percent_of_line_rate) / 100;
    if (bps < limit) out.push({ threshold: 'min_percent_of_line_rate', value: pct(bps, lineRate), limit: t.min_percent_of_line_rate, message: `${rate(bps)} is ${pct(bps, lineRate)} % of what the line rates allow (${rate(lineRate)}), below ${t.min_percent_of_line_rate} %` });
  }
  if (t.max_loss_percent !== null && s.lost_percent !== null && s.lost_percent > t.max_loss_percent) {
    out.push({ threshold: 'max_loss_percent', value: s.lost_percent, limit: t.max_loss_percent, message: `lost ${s.lost_percent} % of ${s.packets} packets, above ${t.max_loss_percent} %` });
  }
  if (t.max_retransmits !== null && s.retransmits !== null && s.retransmits > t.max_retransmits) {
    out.push({ threshold: 'max_retransmits', value: s.retransmits, limit: t.max_retransmits, message: `${s.retransmits} retransmits, above ${t.max_retransmits}` });
  }
  if (t.max_rtt !== null && s.rtt_mean_us !== null && s.rtt_mean_us / 1000 > t.max_rtt) {
    out.push({ threshold: 'max_rtt', value: s.rtt_mean_us / 1000, limit: t.max_rtt, message: `mean RTT ${(s.rtt_mean_us / 1000).toFixed(2)} ms, above ${t.max_rtt} ms` });
  }
  return out;
}

/** Give every pair (and its re-test) a verdict; returns the reference median. */
export function judgePairs(doc: ResultsDocument, t: Thresholds): number | null {
  const ref = medianPair(doc);
  // Alone (a re-test), a pair has its ends' whole line rate; the median stays the mesh's.
  const [inMesh, alone] = t.min_percent_of_line_rate === null ? [null, null] : [lineRates(doc), lineRates(doc, false)];
  for (const [src, dst, pair] of pairsOf(doc)) {
    const r = reasons(pair.summary, t, ref, inMesh?.(src, dst) ?? null);
    Object.assign(pair.summary, { verdict: r.length ? 'fail' : 'pass', reasons: r });
    if (pair.retest) {
      const rr = reasons(pair.retest.summary, t, ref, alone?.(src, dst) ?? null);
      Object.assign(pair.retest.summary, { verdict: rr.length ? 'fail' : 'pass', reasons: rr });
    }
  }
  return ref;
}
