/** The statistics of a few readings (repetitions of one step): median, spread, and the 95 % confidence interval of the mean. */
import type { Stats } from './types.js';

/** Student's t for a two-sided 95 % interval, by degrees of freedom 1-30; beyond, the normal 1.96. */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function stats(values: number[]): Stats | null {
  const n = values.length;
  if (n === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  // The sample standard deviation (n - 1): these are a few draws of the link, not all of it.
  const stddev = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const half = n > 1 ? (T95[n - 2] ?? 1.96) * (stddev / Math.sqrt(n)) : 0;
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    n,
    median: round(median),
    min: round(sorted[0]!),
    max: round(sorted[n - 1]!),
    stddev: round(stddev),
    cv: mean === 0 ? null : round(stddev / mean),
    ci95_low: round(mean - half),
    ci95_high: round(mean + half),
  };
}
