/**
 * A campaign: the steps one run measures over one connection to each host. Each profile, times
 * each point of the sweep (the cross-product of its values), times each repetition, is one step,
 * with its own test options: [test], under the profile, under the run's own options (the CLI's
 * flags), under the sweep point. A run with none of these is one step, as it always was.
 */
import { resolveProfile, type RawProfile } from '../inventory/profiles.js';
import { checkValue, optionConflicts, OptionKey, readValue, SWEEP_KEYS } from '../shared/options.js';
import type { TestParams } from '../shared/options.js';
import { UsageError } from '../shared/errors.js';
import { closest } from '../shared/did-you-mean.js';
import { stepWords } from '../results/campaign.js';

export interface CampaignSpec {
  /** Profile names, in the order to run them; none: the options as they are. */
  profiles: string[];
  /** Option -> its values, each one step (values as [test] reads them: rates and sizes as numbers). */
  sweep: Record<string, unknown[]>;
  /** Runs of each step. */
  repeat: number;
}

export interface Step {
  /** 0, 1, ... in the order they run. */
  index: number;
  profile: string | null;
  /** The sweep's values for this step ({} without a sweep). */
  point: Record<string, unknown>;
  /** 1 ... repeat. */
  repetition: number;
  /** Its options over the inventory's [test]: the profile's, the run's own, the sweep point's. */
  options: Partial<TestParams>;
}

/** Most steps one run takes: each is at least a test's duration. */
export const MAX_STEPS = 10_000;

/** The steps of a campaign, or a UsageError naming what is wrong. */
export function campaignSteps(base: TestParams, overrides: Partial<TestParams>, spec: CampaignSpec, own: Record<string, RawProfile> = {}): Step[] {
  const profiles = spec.profiles.length ? spec.profiles : [null];
  const resolved = profiles.map((name) => {
    if (name === null) return {};
    const p = resolveProfile(name, own);
    if (typeof p === 'string') throw new UsageError(p);
    return p;
  });
  const points = crossProduct(Object.entries(spec.sweep));
  const total = profiles.length * points.length * spec.repeat;
  if (total > MAX_STEPS) throw new UsageError(`the campaign has ${total} steps (${profiles.length} profiles × ${points.length} sweep points × ${spec.repeat} repetitions), more than ${MAX_STEPS}; sweep fewer values`);
  const steps: Step[] = [];
  profiles.forEach((profile, i) => {
    for (const point of points) {
      const options = { ...resolved[i], ...overrides, ...point } as Partial<TestParams>;
      const conflicts = optionConflicts({ ...base, ...options } as TestParams);
      if (conflicts.length) throw new UsageError(`${stepWords(profile, point)}: ${conflicts.join('; ')}`);
      for (let repetition = 1; repetition <= spec.repeat; repetition++) steps.push({ index: steps.length, profile, point, repetition, options });
    }
  });
  return steps;
}

function crossProduct(axes: [string, unknown[]][]): Record<string, unknown>[] {
  return axes.reduce<Record<string, unknown>[]>((points, [key, values]) => points.flatMap((p) => values.map((v) => ({ ...p, [key]: v }))), [{}]);
}

/** --sweep KEY=V1,V2,... read as the option table reads KEY's values; or a UsageError. */
export function parseSweep(args: string[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const arg of args) {
    const m = /^([a-z_-]+)=(.+)$/.exec(arg.trim());
    if (!m) throw new UsageError(`--sweep ${arg}: write KEY=V1,V2,... (e.g. --sweep bitrate=100M,200M)`);
    const key = m[1]!.replace(/-/g, '_');
    if (!(SWEEP_KEYS as string[]).includes(key)) {
      const near = closest(key, SWEEP_KEYS);
      throw new UsageError(`--sweep ${arg}: "${key}" cannot be swept${near ? `; did you mean "${near}"?` : ''} (these can: ${SWEEP_KEYS.join(', ')})`);
    }
    if (out[key]) throw new UsageError(`--sweep ${key} is given twice; list every value in one: --sweep ${key}=V1,V2`);
    out[key] = m[2]!.split(',').map((text) => {
      const value = readValue(key as OptionKey, typed(text.trim()));
      const problem = checkValue(key as OptionKey, value);
      if (problem) throw new UsageError(`--sweep ${key}=${text.trim()}: ${key} ${problem}`);
      return value;
    });
  }
  return out;
}

/** A value as the command line writes it: true/false, a number, or text. */
function typed(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^\d+$/.test(text)) return Number(text);
  return text;
}
