/**
 * When each client's traffic really began: the moment it set up its first data stream. iperf3
 * gives every stream a send/receive buffer in a temporary file it creates (mkstemp, "iperf3.XXXXXX"
 * in TMPDIR or /tmp) and keeps open unlinked, right after the stream's connect returns: that file's
 * birth time is the kernel's own record of the stream's start, a few ms at most after its SYN
 * (filesystem timestamps are as fine as the kernel's coarse clock). So the daemon only has to look
 * while the process lives, not at the moment it starts, and a daemon that waits for the CPU on a
 * saturated host is no less accurate. Where no such file shows (another build of iperf3), the
 * first new descriptor after the control connection is taken, at the midpoint of the looks.
 *
 * Why this and not iperf3's own events: --json-stream (3.17+) exists on few clusters (Debian 12
 * ships 3.12, RHEL 9 3.9), and -J's start timestamp has a resolution of one second. Reading one
 * process's fd directory costs microseconds (that process only), unlike /proc/net/tcp, which
 * walks the namespace's whole socket table; each process is dropped as soon as it is seen.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import type { Instance } from './instances.js';

/** Look every FINE_MS for FINE_FOR_MS after the instant, then every COARSE_MS. */
const FINE_MS = 10;
const FINE_FOR_MS = 3000;
const COARSE_MS = 100;
/** An iperf3 stream's buffer file, open and unlinked. */
const STREAM_FILE = /\/iperf3\.[A-Za-z0-9]{6} \(deleted\)$/;
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

/** The birth time (ms since the epoch) of the earliest stream buffer file a process holds; null when none. */
export function streamBirth(pid: number): number | null {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  let first: number | null = null;
  for (const fd of fds) {
    try {
      if (!STREAM_FILE.test(readlinkSync(`/proc/${pid}/fd/${fd}`))) continue;
      const st = statSync(`/proc/${pid}/fd/${fd}`);
      // A filesystem without birth times reports 0: its ctime is the creation, give or take the buffer's fill.
      const born = st.birthtimeMs > 0 ? st.birthtimeMs : st.ctimeMs;
      if (first === null || born < first) first = born;
    } catch {
      // closed meanwhile
    }
  }
  return first === null ? null : Math.round(first * 10) / 10;
}

interface Watched {
  inst: Instance;
  /** Descriptors it holds before its test begins. */
  baseline: number;
  lastLook: number;
  /** When a new descriptor was first seen (midpoint of two looks), for the fallback. */
  grewAt: number | null;
}

/** A watch of one round's clients, begun once they are connected; `instant` tells it when to look closely. */
export interface TrafficWatch {
  instant(at: number): void;
}

/**
 * Watch the round's clients from now on, from before their instant: a release that reaches a
 * starved host late must not find its clients' tests already begun (or over) unwatched. Each one's
 * `traffic_started_at` is its first stream file's birth time or, where none ever shows, the
 * midpoint of the two looks around its first new descriptor (stdio and the control connection are
 * counted now); a client that ends with neither keeps null (never guessed).
 */
export function watchTrafficStart(clients: Instance[], onStart: (inst: Instance) => void = () => {}): TrafficWatch {
  const now = Date.now();
  let instant = Infinity;
  let timer: NodeJS.Timeout | null = null;
  let pending: Watched[] = clients
    .map((inst) => ({ inst, baseline: fdCount(inst.record.pid) ?? -1, lastLook: now, grewAt: null }))
    .filter((w) => w.inst.running && w.baseline >= 0);
  // The file outlives a look that comes late, so a late look still reads the true time; the
  // descriptor count is only a fallback, for a client that ends without a file ever seen (its
  // socket appears before its connect completes, so it is taken only when nothing better came).
  const settle = (w: Watched, at: number | null) => {
    w.inst.record.traffic_started_at = at;
    if (at !== null && w.inst.running) onStart(w.inst);
    return false;
  };
  const schedule = () => {
    if (pending.length === 0) return;
    const untilClose = instant - LOOK_AHEAD_MS - Date.now();
    const delay = untilClose > 0 ? Math.min(COARSE_MS, untilClose) : -untilClose < FINE_FOR_MS ? FINE_MS : COARSE_MS;
    timer = setTimeout(look, delay);
    timer.unref();
  };
  const look = () => {
    const t = Date.now();
    pending = pending.filter((w) => {
      if (!w.inst.running) return settle(w, w.grewAt);
      const born = streamBirth(w.inst.record.pid);
      if (born !== null) return settle(w, born);
      const n = fdCount(w.inst.record.pid);
      if (n === null) return settle(w, w.grewAt);
      if (n > w.baseline) w.grewAt ??= Math.round((w.lastLook + t) / 2);
      w.lastLook = t;
      return true;
    });
    schedule();
  };
  schedule();
  return {
    instant(at: number) {
      instant = at;
      if (timer) clearTimeout(timer);
      schedule();
    },
  };
}
