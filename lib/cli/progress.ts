/** Progress for people: a bar on a terminal, plain lines (on stderr) otherwise. */
import cliProgress from 'cli-progress';
import { logEntry } from '../index.js';
import type { MeshEvent } from '../index.js';
import { formatBps, STDERR_LINES_KEPT, stepWords } from '../index.js';

export interface Progress {
  listener: (e: MeshEvent) => void;
  stop(): void;
}

/**
 * The line an event deserves, or null for the ones only the bar shows. Exhaustive: an event kind
 * without a case here does not compile.
 */
export function describe(e: MeshEvent): string | null {
  switch (e.type) {
    case 'host-connecting':
    case 'interval':
    case 'done':
      return null;
    case 'host-ready':
      return `${e.host}: ready (${e.hello.hostname}, iperf3 ${e.hello.iperf3_version}, ${e.hello.cpus.length} cpus, node ${e.hello.node_version})`;
    case 'host-failed':
      return `${e.host}: FAILED ${e.error.code}: ${e.error.message}`;
    case 'host-slow':
      return `${e.host}: nothing heard for ${e.silent_s} s, but its SSH connection is up: busy, not gone; waiting up to ${e.lost_after_s} s in all (ssh.lost_after)`;
    case 'host-retry':
      return `${e.host}: attempt ${e.attempt} failed (${e.error.message}); retrying`;
    case 'servers-listening':
      return `${e.host}: ${e.count} iperf3 servers listening`;
    case 'clients-started':
      return `${e.host}: ${e.count} iperf3 clients started${e.round > 0 ? ` (round ${e.round + 1})` : ''}`;
    case 'test-running':
      return testLine(e);
    case 'collecting':
      return `collecting: waiting for ${e.waiting.join(', ')}${e.overdue_s > 0 ? ` (${e.overdue_s} s past the planned end)` : ''}`;
    case 'host-collected':
      return `${e.host}: collected ${e.records.length} ${e.role === 'all' ? 'instance' : e.role} results`;
    case 'host-runtime':
      return `${e.host}: no usable node there; pushed a Node.js runtime (${(e.bytes / 1e6).toFixed(1)} MB), removed when the daemon starts`;
    case 'round-scheduled':
      return `round ${e.round + 1}: ${e.flows} clients on ${e.hosts.length} hosts released at ${e.start_at} (lead ${Math.round(e.lead_ms)} ms)`;
    case 'daemon-stderr':
      return `${e.host}: daemon stderr: ${e.line}`;
    case 'step-started':
      return `step ${e.step + 1}/${e.steps}: ${stepWords(e.profile, e.point)}${e.repetition > 1 ? `, repetition ${e.repetition}` : ''}`;
    case 'listener-error':
    case 'warning':
      return `warning: ${e.message}`;
    default: {
      const unhandled: never = e;
      return unhandled;
    }
  }
}

function testLine(e: Extract<MeshEvent, { type: 'test-running' }>): string {
  return `test: ${Math.round(e.elapsed_s)}/${e.duration_s} s${e.throughput_bps === null ? '' : `, mesh carrying ${formatBps(e.throughput_bps)}`}`;
}

/** Events worth a line on a terminal too, above the bar, as they happen. */
const NEWS = new Set<MeshEvent['type']>(['host-failed', 'host-slow', 'host-retry', 'listener-error', 'step-started']);

/** Lines of one host's daemon stderr shown on the terminal; the rest are counted (and in the log). */
export const TERMINAL_STDERR_LINES = 5;

/**
 * The first few stderr lines of each host, then a count: a host whose login script or daemon
 * floods stderr must not drown the terminal. `shown` says whether to print this line; `summary`
 * what was held back, once at the end.
 */
function stderrGate(limit = TERMINAL_STDERR_LINES) {
  const counts = new Map<string, number>();
  return {
    shown(host: string): boolean {
      const n = (counts.get(host) ?? 0) + 1;
      counts.set(host, n);
      return n <= limit;
    },
    summary(): string[] {
      return [...counts].filter(([, n]) => n > limit).map(([host, n]) => `${host}: ${n - limit} more lines of daemon stderr not shown here; meshperf.log keeps them (up to ${STDERR_LINES_KEPT} a host)`);
    },
  };
}

/** A bar (drawn on `stream`) when `tty`; plain lines otherwise. */
export function createProgress(stream: NodeJS.WritableStream, tty: boolean, hostCount: number): Progress {
  const gate = stderrGate();
  const heldBack = () => gate.summary().forEach((l) => stream.write(l + '\n'));
  if (!tty) {
    return {
      listener: (e) => {
        if (e.type === 'daemon-stderr' && !gate.shown(e.host)) return;
        const line = describe(e);
        if (line) stream.write(line + '\n');
      },
      stop: heldBack,
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream: stream as NodeJS.WriteStream, format: ' {phase} [{bar}] {value}/{total} {unit} {rate}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let ready = 0;
  bar.start(hostCount, 0, { phase: 'connect', unit: 'hosts', rate: '' });
  return {
    listener: (e) => {
      if (NEWS.has(e.type)) {
        // Above the bar: clear its line, say it, draw the bar again below.
        stream.write(`\r\x1b[K${describe(e)}\n`);
        bar.render();
      }
      if (e.type === 'host-ready' || e.type === 'host-failed') bar.update(Math.min(hostCount, ++ready));
      if (e.type === 'test-running') {
        bar.setTotal(e.duration_s);
        bar.update(Math.round(e.elapsed_s), { phase: 'test   ', unit: 's', rate: e.throughput_bps === null ? '' : formatBps(e.throughput_bps) });
      }
      if (e.type === 'collecting') {
        bar.update(bar.getTotal(), { phase: 'collect', unit: 's', rate: `waiting for ${e.waiting.slice(0, 3).join(', ')}${e.waiting.length > 3 ? ` and ${e.waiting.length - 3} more` : ''} (+${e.overdue_s} s)` });
      }
    },
    stop: () => {
      bar.stop();
      heldBack();
    },
  };
}

/** --json: each event as the JSON line the run's log holds, on `stream`. */
export function jsonLines(stream: NodeJS.WritableStream): Progress {
  return {
    listener: (e) => {
      const entry = logEntry(e);
      if (entry) stream.write(JSON.stringify(entry) + '\n');
    },
    stop: () => {},
  };
}

/** --verbose: every entry of the run's log, readably, as it happens: time, host, event, what it says. */
export function verboseLines(stream: NodeJS.WritableStream): Progress {
  return {
    listener: (e) => {
      const entry = logEntry(e);
      if (!entry) return;
      const { ts, event, host, ...details } = entry;
      const text = e.type === 'done' ? `${e.summary.pairs_ok}/${e.summary.pairs} pairs ok, ${e.summary.pairs_fail} fail their thresholds` : (describe(e) ?? (Object.keys(details).length ? JSON.stringify(details) : ''));
      stream.write(`${ts.slice(11, 23)} ${(host ?? '-').padEnd(8)} ${event.padEnd(17)} ${text}\n`);
    },
    stop: () => {},
  };
}
