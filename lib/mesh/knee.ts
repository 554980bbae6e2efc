/**
 * --find-knee (UDP): the highest rate each pair carries with its loss within max_loss_percent.
 * Every pair is measured at once in each step, so the mesh is loaded as it is in use: first at
 * doubling rates from KNEE_START_BPS until each pair loses too much (or KNEE_MAX_BPS is passed),
 * then by bisection between its last good and first bad rate, each pair at its own rate, until
 * each is known within KNEE_PRECISION. A pair already past its knee runs at its last good rate
 * meanwhile, so that the load on the others stays what it was.
 */
import type { ResultsDocument } from '../results/types.js';

/** Per process (iperf3 -b); a pair offers this times its streams and processes. */
export const KNEE_START_BPS = 100e6;
export const KNEE_MAX_BPS = 25.6e9;
/** Bisect until the bad rate is within this share above the good one. */
export const KNEE_PRECISION = 0.1;
/** Most steps one search takes (doubling 100M to 25.6G is 9; each bisection one more). */
export const KNEE_MAX_STEPS = 16;

export interface KneeStep {
  /** What the step measures, for its label (its point in results). */
  point: Record<string, unknown>;
  /** Each pair's -b this step ("src>dst" -> bits/s per process). */
  rateOf: (pair: string) => number;
}

export class KneeSearch {
  /** Highest rate a pair carried within the loss bound, and lowest it did not. */
  private readonly good = new Map<string, number>();
  private readonly bad = new Map<string, number>();
  private readonly pairs = new Set<string>();
  private rate: number;
  private doubling = true;
  private steps = 0;
  private bisection = 0;

  /** `maxRate`: the highest per-process rate to try (--bitrate with --find-knee); the search starts at an eighth of it, or KNEE_START_BPS. */
  constructor(
    private readonly maxLossPercent: number,
    private readonly maxRate = KNEE_MAX_BPS,
  ) {
    this.rate = Math.min(KNEE_START_BPS, maxRate / 8);
  }

  /** The next step, or null once every pair's knee is known (or the search is at its bound). */
  next(): KneeStep | null {
    if (this.steps >= KNEE_MAX_STEPS) return null;
    if (this.steps === 0) return this.step({ bitrate: this.rate }, () => this.rate);
    if (this.doubling) {
      const climbing = [...this.pairs].filter((p) => !this.bad.has(p));
      if (climbing.length && this.rate * 2 <= this.maxRate) {
        this.rate *= 2;
        return this.step({ bitrate: this.rate }, (p) => (this.bad.has(p) ? this.holding(p) : this.rate));
      }
      this.doubling = false;
    }
    const open = [...this.pairs].filter((p) => this.bad.has(p) && this.bad.get(p)! > (this.good.get(p) ?? 0) * (1 + KNEE_PRECISION));
    if (!open.length) return null;
    this.bisection++;
    return this.step({ knee_bisection: this.bisection }, (p) => (open.includes(p) ? ((this.good.get(p) ?? 0) + this.bad.get(p)!) / 2 : this.holding(p)));
  }

  /** What a step measured: each pair's loss at the rate it was given. */
  record(doc: ResultsDocument, step: KneeStep): void {
    for (const [src, { destinations }] of Object.entries(doc.sources)) {
      for (const [dst, pair] of Object.entries(destinations)) {
        const key = `${src}>${dst}`;
        const s = pair.summary;
        if (s.status !== 'ok' && s.status !== 'partial') continue;
        this.pairs.add(key);
        const rate = step.rateOf(key);
        if (s.lost_percent === null) continue;
        if (s.lost_percent <= this.maxLossPercent) this.good.set(key, Math.max(this.good.get(key) ?? 0, rate));
        else this.bad.set(key, Math.min(this.bad.get(key) ?? Infinity, rate));
      }
    }
  }

  /** Each pair's knee per process: the highest rate it carried within the bound (null: not even the lowest tried). */
  knees(): Map<string, number | null> {
    return new Map([...this.pairs].map((p) => [p, this.good.get(p) ?? null]));
  }

  private step(point: Record<string, unknown>, rateOf: (pair: string) => number): KneeStep {
    this.steps++;
    return { point, rateOf };
  }

  /** A pair past its knee: its last good rate (half its first bad one when it had none). */
  private holding(pair: string): number {
    return this.good.get(pair) ?? this.bad.get(pair)! / 2;
  }
}
