/**
 * A results document rendered in any of the report formats, for the pairs a filter keeps: what
 * `meshperf report` prints, and what a library user can ask for.
 */
import path from 'node:path';
import { writeAtomic } from '../results/files.js';
import type { ResultsDocument } from '../results/types.js';
import { pairsCsv } from './csv.js';
import { html } from './html.js';
import { markdown } from './markdown.js';
import { formatMatrix, Metric } from './matrix.js';
import { openMetrics } from './openmetrics.js';
import { filterDocument, PairFilter, pairRows } from './pairs.js';

export const REPORT_FORMATS = ['matrix', 'csv', 'json', 'markdown', 'html', 'openmetrics'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions extends PairFilter {
  format?: ReportFormat;
  metric?: Metric;
}

export const REPORT_HTML = 'report.html';

export function renderReport(doc: ResultsDocument, o: ReportOptions = {}): string {
  const rows = pairRows(doc, o);
  const metric = o.metric ?? 'throughput';
  switch (o.format ?? 'matrix') {
    case 'matrix':
      return formatMatrix(filterDocument(doc, o), metric) + '\n';
    case 'csv':
      return pairsCsv(doc, rows);
    case 'json':
      return JSON.stringify({ format: 'meshperf.report/v1', run: { id: doc.run.id, started_at: doc.run.started_at, finished_at: doc.run.finished_at, parameters: doc.run.parameters }, summary: doc.summary, pairs: rows }, null, 2) + '\n';
    case 'markdown':
      return markdown(doc, rows, metric);
    case 'html':
      return html(doc, rows, metric);
    case 'openmetrics':
      return openMetrics(doc, rows);
  }
}

/** report.html beside results.json in `dir`. */
export async function writeReportHtml(doc: ResultsDocument, dir: string): Promise<string> {
  const file = path.join(dir, REPORT_HTML);
  await writeAtomic(file, renderReport(doc, { format: 'html' }));
  return file;
}
