/**
 * Reading a results file back (meshperf report, meshperf compare): checked enough to say plainly
 * what is wrong with a file that is not one, and brought up to date when an older meshperf wrote
 * it (pair metrics of its protocol, verdicts against the default thresholds, suspects).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../shared/errors.js';
import { coverage } from './build.js';
import { pairSummary } from './pair-summary.js';
import { RESULTS_FORMAT, ResultsDocument } from './types.js';
import { applyVerdicts } from './verdict/apply.js';
import { pairsOf } from './verdict/judge.js';
import { defaultThresholds } from './verdict/thresholds.js';

/** A results.json, or the output directory that holds one. */
export async function readResultsFile(given: string): Promise<ResultsDocument> {
  let text: string;
  const file = (await stat(given).catch(() => null))?.isDirectory() ? path.join(given, 'results.json') : given;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not JSON (${(err as Error).message}); give the results.json a run wrote`);
  }
  const problem = shapeProblem(doc);
  if (problem) throw new UsageError(`${file}: not a meshperf results file: ${problem}`);
  return upgrade(doc as ResultsDocument);
}

function shapeProblem(doc: unknown): string | null {
  const d = doc as Partial<ResultsDocument> | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return 'it is not a JSON object';
  if (d.format !== RESULTS_FORMAT) return `"format" is ${JSON.stringify(d.format)}, expected "${RESULTS_FORMAT}"`;
  if (typeof d.run !== 'object' || d.run === null || !Array.isArray(d.run.hosts) || typeof d.run.parameters !== 'object') return 'no "run" with "hosts" and "parameters"';
  if (typeof d.sources !== 'object' || d.sources === null) return 'no "sources"';
  if (typeof d.summary !== 'object' || d.summary === null) return 'no "summary"';
  for (const [src, s] of Object.entries(d.sources)) {
    if (typeof s?.destinations !== 'object' || s.destinations === null) return `sources.${src} has no "destinations"`;
    for (const [dst, p] of Object.entries(s.destinations)) {
      if (typeof p?.summary !== 'object' || !Array.isArray(p.instances)) return `sources.${src}.destinations.${dst} has no "summary" and "instances"`;
    }
  }
  return null;
}

/** A document of an older meshperf, given what this one computes from the same measurements. */
function upgrade(doc: ResultsDocument): ResultsDocument {
  if (doc.summary.suspects !== undefined) return doc;
  const multiPlane = (doc.run.parameters.planes ?? []).length > 1;
  for (const [, , p] of pairsOf(doc)) {
    if (p.summary.lost_percent === undefined && p.instances.length) {
      const { status: _s, error: _e, ...metrics } = pairSummary(p.instances, multiPlane);
      Object.assign(p.summary, metrics);
    }
  }
  doc.run.parameters = { ...doc.run.parameters, retest: false };
  doc.run.timings ??= {};
  doc.run.coverage ??= coverage(doc.run.hosts.length, doc.sources);
  return applyVerdicts(doc, defaultThresholds());
}
