/**
 * Every flow's per-second throughput on the controller's clock: each instance's iperf3 intervals,
 * placed from when its traffic really began (its first data stream, already on the controller's
 * clock in the results), so that a dip across the fabric at one second lines up in every flow at
 * once, and a flow that began late is drawn late.
 */
import type { InstanceResult, ResultsDocument } from '../results/types.js';
import { pairsOf } from '../results/verdict/judge.js';

export interface Timeline {
  /** Controller time of x = 0, ms since the epoch. */
  t0: number;
  /**
   * Seconds since t0, on a 0.5 s grid shared by every series: the clients of a round start within
   * a few tens of ms of each other, so their intervals fall on the same points and add up.
   */
  x: number[];
  series: { id: string; src: string; dst: string; values: (number | null)[] }[];
  /** What the whole mesh carried at each x: the sum of every series there. */
  aggregate: (number | null)[];
}

interface Interval {
  sum?: { end?: unknown; bits_per_second?: unknown };
}

/** [seconds since the client's start, bits/s] at the end of each interval. */
function points(i: InstanceResult): [number, number][] {
  const intervals = (i.iperf3 as { intervals?: Interval[] } | null)?.intervals;
  if (!Array.isArray(intervals)) return [];
  return intervals.flatMap((iv) => (typeof iv?.sum?.end === 'number' && typeof iv.sum.bits_per_second === 'number' ? [[iv.sum.end, iv.sum.bits_per_second] as [number, number]] : []));
}

export function timeline(doc: ResultsDocument): Timeline {
  const flows = pairsOf(doc).flatMap(([src, dst, p]) =>
    p.instances
      .filter((i) => i.started_at && i.iperf3)
      .map((i) => ({ id: `${src}>${dst}${i.plane === 'default' ? '' : ':' + i.plane}#${i.instance}`, src, dst, start: Date.parse(i.started_at!), points: points(i) })),
  );
  if (!flows.length) return { t0: Date.parse(doc.run.started_at), x: [], series: [], aggregate: [] };
  const t0 = Math.min(...flows.map((f) => f.start));
  const at = (f: (typeof flows)[number], s: number) => Math.round(((f.start - t0) / 1000 + s) * 2) / 2;
  const x = [...new Set(flows.flatMap((f) => f.points.map(([s]) => at(f, s))))].sort((a, b) => a - b);
  const index = new Map(x.map((v, k) => [v, k]));
  const series = flows.map((f) => {
    const values: (number | null)[] = x.map(() => null);
    for (const [s, bps] of f.points) values[index.get(at(f, s))!] = bps;
    return { id: f.id, src: f.src, dst: f.dst, values };
  });
  const aggregate = x.map((_, k) => {
    const here = series.map((s) => s.values[k]).filter((v): v is number => v !== null);
    return here.length ? here.reduce((a, b) => a + b, 0) : null;
  });
  return { t0, x, series, aggregate };
}
