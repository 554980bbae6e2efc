/**
 * /proc/net/tcp{,6}: which TCP ports are taken and which sockets listen. Read, never probed by
 * connecting: a connect can end a one-off iperf3 server. Shared by the daemon and the lab.
 */

export interface SocketEntry {
  port: number;
  /** The peer's port (0 for a listening socket). */
  remotePort: number;
  /** Kernel TCP state; 0x0A is LISTEN. */
  state: number;
  inode: number;
}

export const TCP_LISTEN = 0x0a;
export const TCP_ESTABLISHED = 0x01;
/** States of a socket on its way out: FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, LAST_ACK, CLOSING. */
export const TCP_CLOSING: ReadonlySet<number> = new Set([0x04, 0x05, 0x06, 0x07, 0x09, 0x0b]);

/** Parse the text of /proc/net/tcp or /proc/net/tcp6. */
export function parseProcNetTcp(text: string): SocketEntry[] {
  const entries: SocketEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = f[1]!;
    const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    const remote = f[2]!;
    const remotePort = parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16);
    const state = parseInt(f[3]!, 16);
    const inode = parseInt(f[9]!, 10);
    if (Number.isFinite(port) && Number.isFinite(state)) entries.push({ port, remotePort, state, inode });
  }
  return entries;
}
