/**
 * When the mesh's flows really ran together. Each instance's real start is when its client
 * opened its first data stream (the daemon's look at /proc/<pid>/fd, on the controller's clock);
 * its real end, that start plus the seconds iperf3 itself measured (or its exit, when cut short).
 * A round's common window runs from its latest real start to its earliest real end: only inside
 * it did every flow of the round load the fabric at once. Pure, like the rest of results/.
 */
import type { InstanceRecord } from '../protocol/messages.js';
import type { InstanceResult, RoundResult } from './types.js';

/** A round whose flows ran together for less than this share of the test is not called simultaneous. */
export const MIN_OVERLAP = 0.5;

/** The seconds of test iperf3 measured, from its end-of-test summary; null when it printed none. */
export function testSeconds(doc: unknown): number | null {
  const end = (doc as { end?: Record<string, { seconds?: unknown } | undefined> } | null)?.end;
  for (const key of ['sum_sent', 'sum', 'sum_received']) {
    const s = end?.[key]?.seconds;
    if (typeof s === 'number' && s > 0) return s;
  }
  return null;
}

/**
 * An instance's real start and end on the controller's clock (ms since the epoch), from its
 * client's record and the client host's clock offset (host minus controller); nulls when its
 * traffic was never seen to begin.
 */
export function realSpan(client: InstanceRecord | undefined, offset: number | null): { start: number | null; end: number | null } {
  if (!client || typeof client.traffic_started_at !== 'number') return { start: null, end: null };
  const off = offset ?? 0;
  const start = client.traffic_started_at - off;
  const exit = client.ended_at === null ? null : client.ended_at - off;
  const seconds = testSeconds(client.iperf3);
  const byIperf = seconds === null ? null : start + seconds * 1000;
  const end = byIperf === null ? exit : exit === null ? byIperf : Math.min(byIperf, exit);
  return { start, end: end !== null && end >= start ? end : null };
}

const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));
const round1 = (v: number) => Math.round(v * 10) / 10;

/** Latest minus earliest of some instants, ms; null for none. */
export function spread(instants: number[]): number | null {
  return instants.length ? round1(Math.max(...instants) - Math.min(...instants)) : null;
}

/** A round's common window over its instances' real spans; null when no instance has one. */
export function commonWindow(instances: InstanceResult[]): RoundResult['window'] {
  const spans = instances.flatMap((i) => {
    const [s, e] = [ms(i.started_at), ms(i.ended_at)];
    return s !== null && e !== null ? [[s, e] as const] : [];
  });
  if (!spans.length) return null;
  const start = Math.max(...spans.map(([s]) => s));
  const end = Math.min(...spans.map(([, e]) => e));
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString(), seconds: Math.max(0, Math.round(end - start) / 1000) };
}

/** The share (0 to 1) of an instance's real span that fell inside its round's window; null when either is unknown. */
export function inWindow(i: InstanceResult, window: RoundResult['window']): number | null {
  const [s, e] = [ms(i.started_at), ms(i.ended_at)];
  if (!window || s === null || e === null || e <= s) return null;
  const overlap = Math.min(e, Date.parse(window.end)) - Math.max(s, Date.parse(window.start));
  return Math.round((Math.max(0, overlap) / (e - s)) * 1000) / 1000;
}

/**
 * Rounds whose flows overlapped for less than MIN_OVERLAP of the test, each as a warning: their
 * figures are those of flows that ran one after another, and must never read as the mesh at once.
 */
export function windowWarnings(rounds: RoundResult[], duration: number): string[] {
  return rounds.flatMap((r) => {
    if (!r.window || r.window.seconds >= MIN_OVERLAP * duration) return [];
    return [
      `round ${r.round}: its ${r.flows} flows ran together for only ${r.window.seconds} s of the ${duration} s test ` +
        `(real starts ${r.start_spread_ms} ms apart): not simultaneous; its aggregate is not what the mesh carries at once`,
    ];
  });
}
