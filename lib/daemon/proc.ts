/** Small readers of /proc and of iperf3's own output, shared by the daemon's modules. */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { parseCpuList } from '../shared/cpus.js';
import { parseProcNetTcp, SocketEntry, TCP_LISTEN } from '../shared/proc-net-tcp.js';

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Every TCP socket of this network namespace, IPv4 and IPv6. */
export function tcpSockets(): SocketEntry[] {
  return [...parseProcNetTcp(readOr('/proc/net/tcp', '')), ...parseProcNetTcp(readOr('/proc/net/tcp6', ''))];
}

/** Socket inodes a process holds open. */
export function socketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(Number(m[1]));
    } catch {
      // fd closed while we looked
    }
  }
  return inodes;
}

/** True when process `pid` itself holds a socket listening on `port`. */
export function isListening(pid: number, port: number): boolean {
  const mine = socketInodes(pid);
  return tcpSockets().some((s) => s.port === port && s.state === TCP_LISTEN && mine.has(s.inode));
}

/** A process's state letter from /proc/<pid>/stat ("R", "S", "T" stopped, "Z"…), or null. */
export function procState(pid: number): string | null {
  const stat = readOr(`/proc/${pid}/stat`, '');
  // The command name (field 2) is in parentheses and may hold spaces: the state follows the last ")".
  const state = stat.slice(stat.lastIndexOf(')') + 1).trim().split(' ')[0];
  return state || null;
}

/** CPUs this process may run on, from its affinity mask (not just the core count). */
export function usableCpus(fallbackCount: number): number[] {
  const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(readOr('/proc/self/status', ''));
  const cpus = m ? parseCpuList(m[1]!) : [];
  return cpus.length > 0 ? cpus : Array.from({ length: fallbackCount }, (_, i) => i);
}

