/**
 * What a host's daemon side (the daemon, its Node.js, the login shell) writes to stderr reaches
 * the caller as `daemon-stderr` events, and through them the run's log, up to a bound per host:
 * a host that floods it (a broken login script, a daemon in a loop) must not fill the log or the
 * controller's memory. Past the bound the lines are counted, and the run's warnings say how many
 * were not kept: no silent limit.
 */
import type { MeshEvent } from './events.js';

/** Lines of stderr passed on per host, and the longest line passed on whole. */
export const STDERR_LINES_KEPT = 1000;
export const STDERR_LINE_CHARS = 2000;

export class StderrLimit {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly emit: (e: MeshEvent) => void,
    readonly limit = STDERR_LINES_KEPT,
  ) {}

  line(host: string, line: string): void {
    const n = (this.counts.get(host) ?? 0) + 1;
    this.counts.set(host, n);
    if (n > this.limit) return;
    const text = line.length > STDERR_LINE_CHARS ? `${line.slice(0, STDERR_LINE_CHARS)}… (${line.length} characters in all)` : line;
    this.emit({ type: 'daemon-stderr', host, line: text });
  }

  /** One warning per host past the bound, saying how much it wrote and what was kept. */
  warnings(): string[] {
    return [...this.counts]
      .filter(([, n]) => n > this.limit)
      .map(([host, n]) => `${host}: its daemon side wrote ${n} lines to stderr; the first ${this.limit} are in the run's log (daemon-stderr), the other ${n - this.limit} were not kept`);
  }
}
