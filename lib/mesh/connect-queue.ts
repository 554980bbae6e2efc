/**
 * How many hosts connect (SSH, daemon boot, hello) at once. At most ssh.concurrency, and fewer
 * while more at once only makes each slower: when a host takes much longer than the fastest ones
 * did, the bottleneck is shared (this machine's CPU, a bastion, the hosts' sshd when they share
 * cores as in the lab), and when sshd drops handshakes (MaxStartups) it says so outright. TCP's
 * rules for its window: slow start (one more for each host that came up fast) until the first
 * slow one or drop, then a third less, and from then on one more per window of fast hosts.
 * (Issue 11 measured 200 lab hosts at a fixed 100 at once: 98 "did not say ready within
 * 30000 ms".) p-queue runs the tasks; this only steers its concurrency.
 */
import PQueue from 'p-queue';

/** A host slower than this many times the fastest so far means the shared part is saturated. */
const SLOW_FACTOR = 3;
/** Where it starts: the old fixed default, so that small clusters connect as fast as before. */
const START = 8;
const DECREASE = 2 / 3;

export class ConnectQueue {
  /** Connects allowed at once, fractional: after slow start it grows by 1/limit per fast host. */
  limit: number;
  /** The most that ran at once. */
  peak = 0;
  /** How many times it backed off. */
  backoffs = 0;
  private readonly queue: PQueue;
  private fastest = Infinity;
  private slowStart = true;
  private started = 0;
  /** No second decrease for hosts started before the last one: they ran under the old limit. */
  private holdUntil = 0;

  constructor(private readonly max: number) {
    this.limit = Math.min(max, START);
    this.queue = new PQueue({ concurrency: Math.floor(this.limit) });
  }

  /**
   * Run `task` when there is room; how long it took steers the limit, unless the task calls
   * `unmeasured()`: it was slow for a reason of its own (a Node.js runtime sent to that host), which
   * says nothing of the shared part and must not slow every other host down.
   */
  run<T>(task: (job: { unmeasured(): void }) => Promise<T>): Promise<T> {
    return this.queue.add(async () => {
      const seq = ++this.started;
      this.peak = Math.max(this.peak, this.queue.pending);
      const t0 = performance.now();
      let measured = true;
      const value = await task({ unmeasured: () => (measured = false) });
      if (measured) this.took(performance.now() - t0, seq);
      return value;
    });
  }

  /** A handshake was dropped or refused (MaxStartups, a reset): fewer at once. */
  congested(): void {
    this.decrease(this.started);
  }

  private took(ms: number, seq: number): void {
    this.fastest = Math.min(this.fastest, ms);
    if (ms > SLOW_FACTOR * this.fastest) this.decrease(seq);
    else this.set(Math.min(this.max, this.limit + (this.slowStart ? 1 : 1 / Math.floor(this.limit))));
  }

  private decrease(seq: number): void {
    if (seq <= this.holdUntil) return;
    this.backoffs++;
    this.slowStart = false;
    this.holdUntil = this.started;
    this.set(Math.max(1, this.limit * DECREASE));
  }

  private set(limit: number): void {
    this.limit = limit;
    this.queue.concurrency = Math.max(1, Math.floor(limit));
  }
}
