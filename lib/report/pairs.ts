/**
 * The pairs a report shows: every pair of a results document, or those a filter keeps (source
 * and destination globs, one plane, only failing ones, only those below a rate).
 */
import type { PairResult, PairSummary, ResultsDocument } from '../results/types.js';
import { hostPattern } from '../inventory/host-pattern.js';
import { closest } from '../shared/did-you-mean.js';
import { UsageError } from '../shared/errors.js';

export interface PairFilter {
  /**
   * Source and destination host names: globs (`*`, `?`, `[34]`, `[a-c]`) or the inventory's pdsh
   * ranges (`node[001-010]`); a pair matches any of each (lib/inventory/host-pattern.ts).
   */
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

/** A pattern that cannot be read is the caller's mistake, named: a UsageError. */
function compile(patterns: string[] | undefined, flag: string): ((name: string) => boolean) | null {
  if (!patterns?.length) return null;
  const tests = patterns.map((p) => {
    const m = hostPattern(p);
    if (typeof m === 'string') throw new UsageError(`--${flag} ${m}`);
    return m;
  });
  return (name) => tests.some((test) => test(name));
}

/**
 * The filter's patterns that match no host of the document, each said with the hosts there are
 * (and the nearest, when it looks like a typo): a filter that keeps nothing is a mistake.
 */
export function unmatchedFilters(doc: ResultsDocument, f: PairFilter): string[] {
  const sources = Object.keys(doc.sources);
  const destinations = [...new Set(Object.values(doc.sources).flatMap((s) => Object.keys(s.destinations)))];
  const problems: string[] = [];
  for (const [flag, patterns, names] of [['src', f.src, sources], ['dst', f.dst, destinations]] as const) {
    for (const p of patterns ?? []) {
      if (names.some(compile([p], flag)!)) continue;
      const near = closest(p, names);
      const shown = names.length > 12 ? `${names.slice(0, 12).join(', ')}, … (${names.length} in all)` : names.join(', ');
      problems.push(`--${flag} ${p} matches none of this run's ${flag === 'src' ? 'sources' : 'destinations'} (${shown || 'none'})${near ? `; did you mean "${near}"?` : ''}`);
    }
  }
  return problems;
}

/** One row per pair the filter keeps, in source then destination order. */
export function pairRows(doc: ResultsDocument, f: PairFilter = {}): PairRow[] {
  const rows: PairRow[] = [];
  const fromSrc = compile(f.src, 'src');
  const toDst = compile(f.dst, 'dst');
  for (const [src, { destinations }] of Object.entries(doc.sources)) {
    for (const [dst, pair] of Object.entries(destinations)) {
      const row = pairRow(src, dst, pair, f.plane);
      if (row && (!fromSrc || fromSrc(row.src)) && (!toDst || toDst(row.dst)) && keeps(row, pair, f)) rows.push(row);
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
