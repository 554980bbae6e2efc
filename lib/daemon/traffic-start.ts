/**
 * When each client's traffic really began: the moment it opened its first data stream, seen as a
 * new descriptor in /proc/<pid>/fd. A client connected to a held server holds its control socket
 * and nothing more until the server wakes and asks it to create its streams; the first new
 * descriptor after that is the data socket, opened just before its SYN (UDP: its first datagram).
 *
 * Why this and not iperf3's own events: --json-stream (3.17+) exists on few clusters (Debian 12
 * ships 3.12, RHEL 9 3.9), and -J's start timestamp has a resolution of one second. Reading one
 * process's fd directory costs microseconds (that process only), unlike /proc/net/tcp, which
 * walks the namespace's whole socket table. The look is fine only around the instant, coarse
 * after, and each client is dropped as soon as it is seen, so the cost is bounded by the spread.
 */
import { readdirSync } from 'node:fs';
import type { Instance } from './instances.js';

/** Look every FINE_MS for FINE_FOR_MS after the instant, then every COARSE_MS. */
const FINE_MS = 1;
const FINE_FOR_MS = 3000;
const COARSE_MS = 20;
/** Begin looking this long before the instant, so that the first look is not late. */
export const LOOK_AHEAD_MS = 5;

/** How many descriptors a process holds now; null when it is gone. */
export function fdCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

interface Watched {
  inst: Instance;
  baseline: number;
  lastLook: number;
}

/**
 * Watch `clients` from now on: each one's `traffic_started_at` is set to the midpoint between the
 * last look that saw only the descriptors it holds now (stdio and its control connection) and the
 * first that saw more. A client that exits first keeps null (it never got that far: said by null,
 * not by a guess).
 */
export function watchTrafficStart(clients: Instance[], instant: number): void {
  const now = Date.now();
  let pending: Watched[] = clients
    .map((inst) => ({ inst, baseline: fdCount(inst.record.pid) ?? -1, lastLook: now }))
    .filter((w) => w.inst.running && w.baseline >= 0);
  const look = () => {
    const t = Date.now();
    pending = pending.filter((w) => {
      if (!w.inst.running) return false;
      const n = fdCount(w.inst.record.pid);
      if (n === null) return false;
      if (n <= w.baseline) {
        w.lastLook = t;
        return true;
      }
      w.inst.record.traffic_started_at = Math.round((w.lastLook + t) / 2);
      return false;
    });
    if (pending.length === 0) return;
    const timer = setTimeout(look, Date.now() - instant < FINE_FOR_MS ? FINE_MS : COARSE_MS);
    timer.unref();
  };
  look();
}
