/**
 * A campaign's results: each step built as a run of its own (build.ts), then put together. The
 * document keeps the shape of a one-step run (its run, summary and sources are the first step's,
 * so that every reader of results.json still reads a whole run) and adds `steps`, each with its
 * profile, sweep point and repetition and its own four levels. Each pair of a step gets `stats`
 * over the repetitions of that step and is `unstable` when its throughput varies beyond
 * UNSTABLE_CV or its loss across max_loss_percent: one reading per pair cannot tell a flapping
 * link from noise, five can.
 */
import { sumConnections } from './connections.js';
import { stats } from './stats.js';
import { applyVerdicts } from './verdict/apply.js';
import { defaultThresholds } from './verdict/thresholds.js';
import type { PairSummary, ResultsDocument, StatMetric, StepLabel, StepResult } from './types.js';

/** Coefficient of variation of a pair's throughput over repetitions above which it is unstable (a healthy lab link: under 0.1). */
export const UNSTABLE_CV = 0.25;

const METRICS: StatMetric[] = ['throughput_bps', 'lost_percent', 'jitter_ms', 'rtt_mean_us'];

/** "profile tcp8, bitrate=100000000": a step in words (without its repetition), for messages, the terminal and the report. */
export function stepWords(profile: string | null, point: Record<string, unknown>): string {
  return [...(profile ? [`profile ${profile}`] : []), ...Object.entries(point).map(([k, v]) => `${k}=${v}`)].join(', ') || 'the run';
}

/** A sweep point as one field: "bitrate=100000000;parallel=2" (results.csv, OpenMetrics). */
export function pointText(point: Record<string, unknown>): string {
  return Object.entries(point).map(([k, v]) => `${k}=${v}`).join(';');
}

/** The steps of each profile and sweep point: its repetitions, in the order they ran. */
export function groupSteps<S extends StepLabel>(steps: S[]): S[][] {
  const groups = new Map<string, S[]>();
  for (const s of steps) {
    const key = JSON.stringify([s.profile, s.point]);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()];
}

export function composeCampaign(built: { step: StepLabel; doc: ResultsDocument }[], planned: number): ResultsDocument {
  const steps: StepResult[] = built.map(({ step, doc }) => ({
    index: step.index,
    profile: step.profile,
    point: step.point,
    repetition: step.repetition,
    interrupted: doc.run.interrupted,
    parameters: doc.run.parameters,
    rounds: doc.run.rounds,
    summary: doc.summary,
    sources: doc.sources,
  }));
  addStats(steps);
  const first = built[0]!.doc;
  addMedianVerdicts(first, steps);
  const last = built[built.length - 1]!.doc;
  const labels = built.map((b) => b.step);
  return {
    ...first,
    run: {
      ...first.run,
      finished_at: last.run.finished_at,
      interrupted: built.some((b) => b.doc.run.interrupted) || built.length < planned,
      // The hosts as they ended, their connections counted over every step.
      hosts: last.run.hosts.map((h) => ({ ...h, connections: sumConnections(built.map((b) => b.doc.run.hosts.find((x) => x.name === h.name)?.connections)) })),
      campaign: {
        steps: planned,
        steps_run: built.length,
        profiles: [...new Set(labels.flatMap((l) => (l.profile ? [l.profile] : [])))],
        sweep: sweepOf(labels),
        repeat: Math.max(...labels.map((l) => l.repetition)),
      },
    },
    steps,
  };
}

/** Each pair's stats over the repetitions of its step (same profile and point), in each of them. */
function addStats(steps: StepResult[]): void {
  for (const group of groupSteps(steps)) {
    const pairs = new Set(group.flatMap((s) => Object.entries(s.sources).flatMap(([src, { destinations }]) => Object.keys(destinations).map((dst) => `${src}>${dst}`))));
    for (const key of pairs) {
      const [src, dst] = key.split('>') as [string, string];
      const summaries = group.map((s) => s.sources[src]?.destinations[dst]?.summary).filter((p): p is PairSummary => p !== undefined);
      // Readings only from repetitions that measured the pair.
      const measured = summaries.filter((p) => p.status === 'ok' || p.status === 'partial');
      const out: PairSummary['stats'] = {};
      for (const m of METRICS) {
        const st = stats(measured.map((p) => p[m]).filter((v): v is number => typeof v === 'number'));
        if (st) out[m] = st;
      }
      const unstable = isUnstable(out, group[0]!.parameters.thresholds?.max_loss_percent ?? null);
      for (const p of summaries) Object.assign(p, { stats: out, unstable });
    }
  }
}

/**
 * With repetitions, the verdicts and suspects of each step's pairs over all its repetitions:
 * judged again on a copy whose pairs carry their medians, as applyVerdicts judges a run. One
 * noisy repetition then does not fail a pair, nor does one lucky one pass it.
 */
function addMedianVerdicts(first: ResultsDocument, steps: StepResult[]): void {
  for (const group of groupSteps(steps)) {
    if (group.length < 2) continue;
    const base = group[0]!;
    const medians: ResultsDocument['sources'] = {};
    for (const [src, { destinations }] of Object.entries(base.sources)) {
      medians[src] = { destinations: {} };
      for (const [dst, pair] of Object.entries(destinations)) {
        const st = pair.summary.stats ?? {};
        const m = Object.fromEntries(METRICS.flatMap((k) => (st[k] ? [[k, st[k]!.median]] : [])));
        medians[src]!.destinations[dst] = { ...pair, summary: { ...pair.summary, ...m } };
      }
    }
    const judged = applyVerdicts({ ...first, run: { ...first.run, parameters: { ...base.parameters }, rounds: base.rounds }, summary: { ...base.summary }, sources: medians }, base.parameters.thresholds ?? defaultThresholds());
    const { pairs_pass, pairs_fail, median_pair_throughput_bps, suspects } = judged.summary;
    for (const s of group) {
      s.median_summary = { repetitions: group.length, pairs_pass, pairs_fail, median_pair_throughput_bps, suspects };
      for (const [src, { destinations }] of Object.entries(s.sources)) {
        for (const [dst, pair] of Object.entries(destinations)) {
          const v = judged.sources[src]?.destinations[dst]?.summary.verdict;
          if (v) pair.summary.median_verdict = v;
        }
      }
    }
  }
}

/**
 * Unstable: over two or more repetitions its throughput varies by more than UNSTABLE_CV, or its
 * loss moves by more than the loss a pair may have (max_loss_percent): it passes one reading and
 * fails the next, so no single reading describes the link.
 */
function isUnstable(st: NonNullable<PairSummary['stats']>, maxLoss: number | null): boolean {
  const t = st.throughput_bps;
  if (!t || t.n < 2) return false;
  const loss = st.lost_percent;
  return (t.cv !== null && t.cv > UNSTABLE_CV) || (maxLoss !== null && loss !== undefined && loss.max - loss.min > maxLoss);
}

function sweepOf(labels: StepLabel[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const l of labels) for (const [k, v] of Object.entries(l.point)) if (!(out[k] ??= []).some((x) => x === v)) out[k]!.push(v);
  return out;
}

/**
 * --find-knee: each pair's knee on its summaries (the top level's and every step's), as the rate
 * the pair offered there: the per-process rate found times its streams and processes.
 */
export function withKnees(doc: ResultsDocument, knees: Map<string, number | null>): void {
  const perPair = (doc.run.parameters.parallel ?? 1) * doc.run.parameters.processes;
  const all = [doc.sources, ...(doc.steps ?? []).map((s) => s.sources)];
  for (const sources of all) {
    for (const [src, { destinations }] of Object.entries(sources)) {
      for (const [dst, pair] of Object.entries(destinations)) {
        const k = knees.get(`${src}>${dst}`);
        if (k !== undefined) pair.summary.knee_bps = k === null ? null : k * perPair;
      }
    }
  }
}
