/** Small readers of /proc and of iperf3's own output, shared by the daemon's modules. */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { parseProcNetTcp, SocketEntry, TCP_LISTEN } from './ports.js';

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

/** Parse a kernel CPU list such as "0-3,8,10-11". */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    const end = b === undefined ? a : b;
    for (let c = a; c <= end; c++) cpus.push(c);
  }
  return cpus;
}

/** CPUs this process may run on, from its affinity mask (not just the core count). */
export function usableCpus(fallbackCount: number): number[] {
  const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(readOr('/proc/self/status', ''));
  const cpus = m ? parseCpuList(m[1]!) : [];
  return cpus.length > 0 ? cpus : Array.from({ length: fallbackCount }, (_, i) => i);
}

/**
 * iperf3 3.16 could print its JSON document twice; take the first complete top-level object.
 * Returns null when there is none.
 */
export function parseFirstJson(text: string): unknown {
  const start = text.indexOf('{');
  if (start === -1) return null;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) {
      try {
        return JSON.parse(text.slice(start, i + 1));
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** "iperf 3.12 (cJSON 1.7.15)" -> "3.12"; "iperf 3.9" -> "3.9". */
export function parseIperfVersion(text: string): string | null {
  const m = /iperf\s+(\d+\.\d+(?:\.\d+)?)/.exec(text);
  return m ? m[1]! : null;
}

/** Compare "3.10" with "3.9" numerically. */
export function versionAtLeast(version: string | null, min: string): boolean {
  if (!version) return false;
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}
