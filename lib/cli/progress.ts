/** Progress for people: a bar on a terminal, plain lines (on stderr) otherwise. */
import cliProgress from 'cli-progress';
import type { MeshEvent, MeshEventListener } from '../mesh/events.js';
import { formatBps } from './matrix.js';

export interface Progress {
  listener: MeshEventListener;
  stop(): void;
}

export function describe(e: MeshEvent): string | null {
  switch (e.type) {
    case 'host-ready':
      return `${e.host}: ready (${e.hello.hostname}, iperf3 ${e.hello.iperf3_version}, ${e.hello.cpus.length} cpus, node ${e.hello.node_version})`;
    case 'host-failed':
      return `${e.host}: FAILED ${e.error.code}: ${e.error.message}`;
    case 'servers-listening':
      return `${e.host}: ${e.count} iperf3 servers listening`;
    case 'clients-started':
      return `${e.host}: ${e.count} iperf3 clients started${e.round > 0 ? ` (round ${e.round + 1})` : ''}`;
    case 'host-collected':
      return `${e.host}: collected ${e.records.length} instance results`;
    case 'host-retry':
      return `${e.host}: attempt ${e.attempt} failed (${e.error.message}); retrying`;
    default:
      return null;
  }
}

/** A bar (drawn on `stream`) when `tty`, i.e. stdout is a terminal; plain lines otherwise. */
export function createProgress(stream: NodeJS.WriteStream, tty: boolean, hostCount: number): Progress {
  if (!tty) {
    return {
      listener: (e) => {
        const line = describe(e) ?? (e.type === 'test-running' ? `test: ${Math.round(e.elapsed_s)}/${e.duration_s} s${e.throughput_bps === null ? '' : `, mesh carrying ${formatBps(e.throughput_bps)}`}` : null);
        if (line) stream.write(line + '\n');
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream, format: ' {phase} [{bar}] {value}/{total} {unit} {rate}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let ready = 0;
  bar.start(hostCount, 0, { phase: 'connect', unit: 'hosts', rate: '' });
  return {
    listener: (e) => {
      if (e.type === 'host-ready' || e.type === 'host-failed') bar.update(++ready);
      if (e.type === 'test-running') {
        bar.setTotal(e.duration_s);
        bar.update(Math.round(e.elapsed_s), { phase: 'test   ', unit: 's', rate: e.throughput_bps === null ? '' : formatBps(e.throughput_bps) });
      }
    },
    stop: () => bar.stop(),
  };
}
