/**
 * Live progress, one message per host per second: each client's latest interval (iperf3
 * --json-stream) is kept, and once a second the host's sum is sent, with the intervals themselves
 * only when the controller asked for them. One notification per client per second was 552 a
 * second at 24 hosts and some 40,000 at 200, read on the controller's one thread beside every
 * host's heartbeat; per host it grows with hosts, not pairs.
 */
import type { HostIntervalParams, IntervalParams } from '../protocol/messages.js';

export const FLUSH_MS = 1000;
/** The first message of a spell goes this soon after its first interval: the progress is not a second late. */
export const FIRST_MS = 100;

export class LiveRate {
  private readonly latest = new Map<string, number>();
  private readonly running = new Set<string>();
  private pending: IntervalParams[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: (p: HostIntervalParams) => void,
    private readonly perInstance: () => boolean,
  ) {}

  /** A live client started: it counts in the sum until it ends. */
  started(id: string): void {
    this.running.add(id);
  }

  ended(id: string): void {
    this.running.delete(id);
    this.latest.delete(id);
  }

  interval(p: IntervalParams): void {
    this.latest.set(p.id, p.bits_per_second);
    if (this.perInstance()) this.pending.push(p);
    // The clients started together, so each second's intervals come close together: the first
    // message waits a little for the rest, then one a second on that beat.
    this.timer ??= setTimeout(() => this.flush(), FIRST_MS);
  }

  /** Send what came in since the last flush; keep ticking while a live client runs. */
  private flush(): void {
    this.timer = null;
    const rates = [...this.latest.values()];
    const intervals = this.pending;
    this.pending = [];
    this.send({ time_ms: Date.now(), bits_per_second: rates.reduce((a, b) => a + b, 0), clients: rates.length, ...(intervals.length ? { intervals } : {}) });
    if (this.running.size > 0) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }
}
