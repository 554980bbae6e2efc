/**
 * A results document rendered in any of the report formats, for the pairs a filter keeps: what
 * `meshperf report` prints, and what a library user can ask for.
 */
import path from 'node:path';
import { writeAtomic } from '../results/files.js';
import type { ResultsDocument, StepResult } from '../results/types.js';
import { selectSteps, type StepFilter } from './steps.js';
import { pointText } from '../results/campaign.js';
import { pairsCsv } from './csv.js';
import { html } from './html.js';
import { markdown } from './markdown.js';
import { formatMatrix, Metric } from './matrix.js';
import { openMetrics } from './openmetrics.js';
import { filterDocument, PairFilter, pairRows } from './pairs.js';

export const REPORT_FORMATS = ['matrix', 'csv', 'json', 'markdown', 'html', 'openmetrics'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions extends PairFilter, StepFilter {
  format?: ReportFormat;
  metric?: Metric;
}

export const REPORT_HTML = 'report.html';

export function renderReport(whole: ResultsDocument, o: ReportOptions = {}): string {
  const doc = selectSteps(whole, o);
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
      // A campaign: every step's pairs, labelled with the step.
      return openMetrics(doc, doc.steps ? doc.steps.map((s) => ({ labels: stepLabels(s), rows: pairRows({ ...doc, sources: s.sources }, o) })) : [{ labels: {}, rows }]);
  }
}

/** A step's labels in OpenMetrics: which step (1-based), its profile, sweep point and repetition. */
function stepLabels(s: StepResult): Record<string, string> {
  return { step: String(s.index + 1), profile: s.profile ?? '', point: pointText(s.point), repetition: String(s.repetition) };
}

/** report.html beside results.json in `dir`. */
export async function writeReportHtml(doc: ResultsDocument, dir: string): Promise<string> {
  const file = path.join(dir, REPORT_HTML);
  await writeAtomic(file, renderReport(doc, { format: 'html' }));
  return file;
}
