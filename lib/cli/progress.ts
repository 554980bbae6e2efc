/** Progress for people: a bar on a terminal, plain lines (on stderr) otherwise. */
import cliProgress from 'cli-progress';
import type { MeshEvent } from '../index.js';
import { formatBps } from './matrix.js';

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
const NEWS = new Set<MeshEvent['type']>(['host-failed', 'host-retry', 'listener-error']);

/** A bar (drawn on `stream`) when `tty`; plain lines otherwise. */
export function createProgress(stream: NodeJS.WritableStream, tty: boolean, hostCount: number): Progress {
  if (!tty) {
    return {
      listener: (e) => {
        const line = describe(e);
        if (line) stream.write(line + '\n');
      },
      stop: () => {},
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
    stop: () => bar.stop(),
  };
}
