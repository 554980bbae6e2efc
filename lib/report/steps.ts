/**
 * A campaign's steps in the report: `--step N` renders one step as a run of its own, `--profile
 * NAME` keeps that profile's steps. Either way the document keeps its shape: its top level is the
 * first step kept, `steps` the ones kept, so that every format renders it as it renders a run.
 */
import { UsageError } from '../shared/errors.js';
import type { ResultsDocument, StepResult } from '../results/types.js';

export interface StepFilter {
  /** 1-based, as the terminal numbers the steps. */
  step?: number;
  profile?: string;
}

export function selectSteps(doc: ResultsDocument, f: StepFilter): ResultsDocument {
  if (f.step === undefined && f.profile === undefined) return doc;
  const steps = doc.steps;
  if (!steps) throw new UsageError(`--step and --profile choose among a campaign's steps; ${doc.run.id} is a run of one step`);
  let kept = steps;
  if (f.profile !== undefined) {
    kept = kept.filter((s) => s.profile === f.profile);
    const profiles = [...new Set(steps.map((s) => s.profile ?? '(none)'))];
    if (!kept.length) throw new UsageError(`--profile ${f.profile}: this campaign ran ${profiles.join(', ')}`);
  }
  if (f.step !== undefined) {
    const one = steps[f.step - 1];
    if (!one || !kept.includes(one)) throw new UsageError(`--step ${f.step}: this campaign has steps 1 to ${steps.length}${f.profile ? `, of which profile ${f.profile}'s are ${kept.map((s) => s.index + 1).join(', ')}` : ''}`);
    return asRun(doc, one, null);
  }
  return asRun(doc, kept[0]!, kept.length > 1 ? kept : null);
}

/** The document with `step` at its top, and `steps` (or none: a run of one step). */
function asRun(doc: ResultsDocument, step: StepResult, steps: StepResult[] | null): ResultsDocument {
  const { steps: _all, ...rest } = doc;
  return {
    ...rest,
    run: { ...doc.run, parameters: step.parameters, rounds: step.rounds, interrupted: step.interrupted, ...(steps ? {} : { campaign: undefined }) },
    summary: step.summary,
    sources: step.sources,
    ...(steps ? { steps } : {}),
  };
}
