/**
 * Which TCP ports are taken, read from /proc/net/tcp{,6} (never by connecting: a connect can end
 * a one-off iperf3 server), and which free ones to hand out.
 */

export interface SocketEntry {
  port: number;
  /** Kernel TCP state; 0x0A is LISTEN. */
  state: number;
  inode: number;
}

export const TCP_LISTEN = 0x0a;

/** Parse the text of /proc/net/tcp or /proc/net/tcp6. */
export function parseProcNetTcp(text: string): SocketEntry[] {
  const entries: SocketEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = f[1]!;
    const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    const state = parseInt(f[3]!, 16);
    const inode = parseInt(f[9]!, 10);
    if (Number.isFinite(port) && Number.isFinite(state)) entries.push({ port, state, inode });
  }
  return entries;
}

/**
 * Pick `count` ports from the inclusive range, skipping every port in `taken`. Throws a message
 * that says how many were found, so the operator knows to widen port_range.
 */
export function pickPorts(range: readonly [number, number], count: number, taken: ReadonlySet<number>): number[] {
  const [lo, hi] = range;
  const picked: number[] = [];
  for (let p = lo; p <= hi && picked.length < count; p++) {
    if (!taken.has(p)) picked.push(p);
  }
  if (picked.length < count) {
    throw new Error(
      `port_range ${lo}-${hi} has only ${picked.length} free ports, ${count} needed: widen port_range`,
    );
  }
  return picked;
}
