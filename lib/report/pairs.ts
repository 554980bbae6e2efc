/**
 * The pairs a report shows: every pair of a results document, or those a filter keeps (source
 * and destination globs, one plane, only failing ones, only those below a rate).
 */
import type { PairResult, PairSummary, ResultsDocument } from '../results/types.js';
import { matchesSshPattern } from '../shared/ssh-pattern.js';

export interface PairFilter {
  /** Globs (* and ?) over source and destination host names; a pair matches any of each. */
  src?: string[];
  dst?: string[];
  /** One plane: its sub-summary of each pair that ran on it. */
  plane?: string;
  /** Only pairs whose verdict is fail. */
  failed?: boolean;
  /** Only pairs below this many bits/s. */
  below?: number;
}

export interface PairRow {
  src: string;
  dst: string;
  /** The plane of the row when filtered to one; null: the pair over all its planes. */
  plane: string | null;
  summary: PairSummary;
  /** With --retest, the reading alone. */
  retest: PairSummary | null;
  /** The planes it ran on. */
  planes: string[];
}

const anyOf = (globs: string[] | undefined, name: string) => !globs?.length || globs.some((g) => matchesSshPattern(g, name, false));

/** One row per pair the filter keeps, in source then destination order. */
export function pairRows(doc: ResultsDocument, f: PairFilter = {}): PairRow[] {
  const rows: PairRow[] = [];
  for (const [src, { destinations }] of Object.entries(doc.sources)) {
    for (const [dst, pair] of Object.entries(destinations)) {
      const row = pairRow(src, dst, pair, f.plane);
      if (row && keeps(row, pair, f)) rows.push(row);
    }
  }
  return rows;
}

function pairRow(src: string, dst: string, pair: PairResult, plane: string | undefined): PairRow | null {
  const planes = [...new Set(pair.instances.map((i) => i.plane))];
  const base = { src, dst, planes, retest: pair.retest?.summary ?? null };
  if (plane === undefined) return { ...base, plane: null, summary: pair.summary };
  if (!planes.includes(plane)) return null;
  // A run of one plane has no per-plane summaries: the pair's own is that plane's.
  const summary = pair.summary.planes?.[plane] ?? pair.summary;
  return { ...base, plane, summary: { ...summary, verdict: pair.summary.verdict, reasons: pair.summary.reasons } };
}

function keeps(row: PairRow, pair: PairResult, f: PairFilter): boolean {
  if (!anyOf(f.src, row.src) || !anyOf(f.dst, row.dst)) return false;
  if (f.failed && pair.summary.verdict !== 'fail') return false;
  if (f.below !== undefined && !(row.summary.throughput_bps < f.below)) return false;
  return true;
}

/** The document with only the pairs the filter keeps (for the matrix and the HTML report). */
export function filterDocument(doc: ResultsDocument, f: PairFilter): ResultsDocument {
  const keep = new Set(pairRows(doc, f).map((r) => `${r.src}>${r.dst}`));
  const sources = Object.fromEntries(
    Object.entries(doc.sources).map(([src, { destinations }]) => [src, { destinations: Object.fromEntries(Object.entries(destinations).filter(([dst]) => keep.has(`${src}>${dst}`))) }]),
  );
  const planes = f.plane ? [f.plane] : doc.run.parameters.planes;
  return { ...doc, run: { ...doc.run, parameters: { ...doc.run.parameters, planes } }, sources };
}
