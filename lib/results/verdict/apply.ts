/** Verdicts and suspects written into a results document: every pair judged, then the causes named. */
import type { ResultsDocument } from '../types.js';
import { judgePairs, pairsOf } from './judge.js';
import { findSuspects } from './suspects.js';
import type { Thresholds } from './thresholds.js';

export function applyVerdicts(doc: ResultsDocument, thresholds: Thresholds): ResultsDocument {
  doc.run.parameters.thresholds = thresholds;
  const medianBps = judgePairs(doc, thresholds);
  const pairs = pairsOf(doc).map(([, , p]) => p.summary);
  Object.assign(doc.summary, {
    pairs_pass: pairs.filter((p) => p.verdict === 'pass').length,
    pairs_fail: pairs.filter((p) => p.verdict === 'fail').length,
    median_pair_throughput_bps: medianBps,
    suspects: findSuspects(doc, medianBps),
  });
  return doc;
}
