/**
 * The commands that read results instead of running: `meshperf report` (re-render a results file,
 * filtered, in any format) and `meshperf compare` (two runs, pair by pair). Thin shells over
 * renderReport and compareResults.
 */
import { writeFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { compareResults, comparisonHtml, comparisonMarkdown, comparisonText, METRICS, parseSize, readResultsFile, renderReport, REPORT_FORMATS, unmatchedFilters, UsageError } from '../index.js';
import type { Comparison, Metric, ReportFormat } from '../index.js';

type Say = (s: string) => void;

/** A rendering to --out, or to stdout. */
async function emit(text: string, out: string | undefined, say: Say): Promise<void> {
  if (!out) return void say(text.replace(/\n$/, ''));
  await writeFile(out, text).catch((err: Error) => {
    throw new UsageError(`--out ${out}: ${err.message}`);
  });
}

interface ReportArgs {
  results: string;
  src?: string[];
  dst?: string[];
  plane?: string;
  step?: string;
  profile?: string;
  metric: Metric;
  failed?: boolean;
  below?: string;
  format: ReportFormat;
  out?: string;
}

interface CompareArgs {
  base: string;
  new: string;
  tolerance: string;
  metric?: Metric[];
  format: 'text' | 'markdown' | 'json' | 'html';
  out?: string;
}

export function reportCommand(say: Say): CommandModule {
  return {
    command: 'report <results>',
    describe: 're-render a results file (or the directory holding it) without running again: filter, pick a metric and a format',
    builder: (y) =>
      y
        .positional('results', { type: 'string', demandOption: true, describe: 'results.json, or the run\'s output directory' })
        .option('src', { type: 'string', array: true, describe: 'only these sources: host names, globs (*, ?, [34], [a-c]) or ranges (node[001-010]), repeatable' })
        .option('dst', { type: 'string', array: true, describe: 'only these destinations: host names, globs or ranges, repeatable' })
        .option('plane', { type: 'string', describe: 'only this plane (rail), with its own per-pair summaries' })
        .option('step', { type: 'string', describe: 'a campaign: only its Nth step (1-based, as the run listed them), as a run of its own' })
        .option('profile', { type: 'string', describe: 'a campaign: only the steps of this profile' })
        .option('metric', { choices: METRICS, default: 'throughput' as Metric, describe: 'what the matrix, markdown and HTML show' })
        .option('failed', { type: 'boolean', describe: 'only pairs that fail their thresholds' })
        .option('below', { type: 'string', describe: 'only pairs below this rate, K/M/G (e.g. 500M)' })
        .option('format', { choices: REPORT_FORMATS, default: 'matrix' as ReportFormat, describe: 'how to render it' })
        .option('out', { alias: 'o', type: 'string', describe: 'write it to this file instead of stdout' }),
    handler: async (argv) => {
      const a = argv as unknown as ReportArgs;
      const below = a.below === undefined ? undefined : parseSize(a.below, 1000);
      if (Number.isNaN(below)) throw new UsageError(`--below must be a rate in bits/s, a number optionally with K, M or G (e.g. 500M), got ${JSON.stringify(a.below)}`);
      const doc = await readResultsFile(a.results);
      if (a.plane !== undefined && !doc.run.parameters.planes.includes(a.plane)) throw new UsageError(`--plane ${a.plane}: this run measured ${doc.run.parameters.planes.map((p) => `"${p}"`).join(', ')}`);
      const unmatched = unmatchedFilters(doc, { src: a.src, dst: a.dst });
      if (unmatched.length) throw new UsageError(unmatched.join('\n'));
      const step = a.step === undefined ? undefined : /^\d+$/.test(a.step) && Number(a.step) >= 1 ? Number(a.step) : NaN;
      if (Number.isNaN(step)) throw new UsageError(`--step must be a step's number, 1 or more, got ${JSON.stringify(a.step)}`);
      await emit(renderReport(doc, { format: a.format, metric: a.metric, src: a.src, dst: a.dst, plane: a.plane, failed: a.failed, below, step, profile: a.profile }), a.out, say);
    },
  };
}

/** `setCode`: 3 when a pair regressed, else 0. */
export function compareCommand(say: Say, setCode: (code: number) => void): CommandModule {
  return {
    command: 'compare <base> <new>',
    describe: 'compare two runs pair by pair; exit 3 when any pair regressed beyond the tolerance',
    builder: (y) =>
      y
        .positional('base', { type: 'string', demandOption: true, describe: 'the earlier results.json (or its directory)' })
        .positional('new', { type: 'string', demandOption: true, describe: 'the later one' })
        .option('tolerance', { type: 'string', default: '10%', describe: 'how far a metric may move before it counts, percent' })
        .option('metric', { choices: METRICS, array: true, describe: 'metrics to compare, repeatable (default: throughput and loss)' })
        .option('format', { choices: ['text', 'markdown', 'json', 'html'] as const, default: 'text' as const })
        .option('out', { alias: 'o', type: 'string', describe: 'write it to this file instead of stdout' }),
    handler: async (argv) => {
      const a = argv as unknown as CompareArgs;
      const tolerance = Number(String(a.tolerance).trim().replace(/%$/, ''));
      if (!(tolerance >= 0) || String(a.tolerance).trim() === '') throw new UsageError(`--tolerance must be a percent, 0 or more (e.g. 10%), got ${JSON.stringify(a.tolerance)}`);
      const c = compareResults(await readResultsFile(a.base), await readResultsFile(a.new), tolerance, a.metric?.length ? a.metric : undefined);
      const render = { text: comparisonText, markdown: comparisonMarkdown, html: comparisonHtml, json: (x: Comparison) => JSON.stringify(x, null, 2) + '\n' }[a.format];
      await emit(render(c), a.out, say);
      setCode(c.regressions > 0 ? 3 : 0);
    },
  };
}
