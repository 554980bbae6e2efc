// What a benchmark measured, for `npm run bench` (bench/all.mjs): each ratio one JSON line
// appended to the file named by MESHPERF_BENCH_RESULTS, when it is set. Run alone, a benchmark
// only prints. And the median every benchmark reports.
import { appendFileSync } from 'node:fs';

/**
 * One ratio of a benchmark against its baseline. `goal`: the ratio it must not exceed (lower is
 * better), or null when it is only watched.
 */
export function recordRatio({ bench, label, ratio, goal = null, detail = '' }) {
  const file = process.env.MESHPERF_BENCH_RESULTS;
  if (file) appendFileSync(file, JSON.stringify({ bench, label, ratio: Number(ratio.toPrecision(3)), goal, detail }) + '\n');
}

/** The middle run (the upper one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
