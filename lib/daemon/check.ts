/**
 * meshperf check on a host: plain TCP listeners on its data addresses for its peers to reach
 * (never an iperf3 server, which a stray connect could end), connects to theirs, and the limits
 * that bite a large mesh there: free ports, the neighbour table, sshd's MaxStartups.
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { PreflightResult, ProbeParams, ProbeResult } from '../protocol/messages.js';
import { pickPorts } from './ports.js';
import { PROBE_PASSES, PROBES_AT_ONCE } from '../protocol/timeouts.js';

const listeners: net.Server[] = [];

export async function preflight(listen: string[], range: readonly [number, number], taken: ReadonlySet<number>): Promise<PreflightResult> {
  const inRange = [...taken].filter((p) => p >= range[0] && p <= range[1]).length;
  const opened: PreflightResult['listeners'] = [];
  const busy = new Set(taken);
  for (const address of listen) {
    // A port another process takes between the look and the bind: try the next free one.
    for (let attempt = 0; attempt < 5; attempt++) {
      const [port] = pickPorts(range, 1, busy);
      if (port === undefined) break;
      busy.add(port);
      const server = net.createServer((socket) => socket.end());
      const ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen({ host: address.replace(/^\[|\]$/g, ''), port }, () => resolve(true));
      });
      if (!ok) continue;
      listeners.push(server);
      opened.push({ address, port });
      break;
    }
  }
  return { free_ports: range[1] - range[0] + 1 - inRange, gc_thresh3: readNumber('/proc/sys/net/ipv4/neigh/default/gc_thresh3'), max_startups: maxStartups(), listeners: opened };
}

/** Close the check's listeners (stop, or the daemon's exit). */
export function closeListeners(): void {
  for (const s of listeners.splice(0)) s.close();
}

export async function probe(p: ProbeParams): Promise<ProbeResult> {
  const results: ProbeResult['results'] = new Array(p.targets.length);
  const pass = async (indices: number[]) => {
    let next = 0;
    const worker = async () => {
      for (let k = next++; k < indices.length; k = next++) results[indices[k]!] = await connectOnce(p.targets[indices[k]!]!, p.timeout_ms);
    };
    await Promise.all(Array.from({ length: Math.min(PROBES_AT_ONCE, indices.length) }, worker));
  };
  await pass(p.targets.map((_, i) => i));
  // Again for what failed (PROBE_PASSES in all): a peer too busy to answer in time (hundreds of
  // hosts booting on few cores) answers now; a blocked port or a wrong route fails again.
  for (let n = 1; n < PROBE_PASSES; n++) await pass(results.flatMap((r, i) => (r.ok ? [] : [i])));
  return { results };
}

function connectOnce(t: ProbeParams['targets'][number], timeoutMs: number): Promise<ProbeResult['results'][number]> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: t.address, port: t.port, ...(t.bind ? { localAddress: t.bind } : {}) });
    const done = (error?: string) => {
      socket.destroy();
      resolve({ address: t.address, port: t.port, ok: !error, ms: Math.round((performance.now() - started) * 100) / 100, ...(error ? { error } : {}) });
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done());
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

function readNumber(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/**
 * sshd's MaxStartups from its config (sshd takes the first value it reads; drop-ins are included
 * first on Debian), its default 10 when the file says nothing, null when it cannot be read.
 */
function maxStartups(): number | null {
  const files = ['/etc/ssh/sshd_config'];
  try {
    files.unshift(...readdirSync('/etc/ssh/sshd_config.d').filter((f) => f.endsWith('.conf')).sort().map((f) => path.join('/etc/ssh/sshd_config.d', f)));
  } catch {
    // no drop-in directory
  }
  let readAny = false;
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
      readAny = true;
    } catch {
      continue;
    }
    const m = /^\s*MaxStartups\s+(\d+)/im.exec(text);
    if (m) return Number(m[1]);
  }
  return readAny ? 10 : null;
}
