/** Small readers of /proc and of iperf3's own output, shared by the daemon's modules. */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { parseCpuList } from '../shared/cpus.js';
import { parseProcNetTcp, SocketEntry } from '../shared/proc-net-tcp.js';

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

/** A process's state letter from /proc/<pid>/stat ("R", "S", "T" stopped, "Z"…), or null. */
export function procState(pid: number): string | null {
  return statFields(pid)[0] || null;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is the state. */
function statFields(pid: number | 'self'): string[] {
  const stat = readOr(`/proc/${pid}/stat`, '');
  return stat ? stat.slice(stat.lastIndexOf(')') + 1).trim().split(' ') : [];
}

/**
 * True when the host is starved of CPU: four times as many tasks runnable as it has cores (the
 * 4th field of /proc/loadavg, "R/T", which counts this daemon too). A few more than cores is an
 * ordinary busy host (measured: 5 to 9 on 2 cores during a 3-host mesh); hundreds is the emulated
 * cluster's 1,104 iperf3 on 2 cores. Not the load averages: they count tasks waiting on I/O too
 * (11.6 here with one task runnable), and a hung client was kept alive by them.
 */
export function overloaded(): boolean {
  const running = Number(readOr('/proc/loadavg', '').split(' ')[3]?.split('/')[0]);
  return running - 1 > 4 * os.cpus().length;
}

/** When the host was last seen starved (ms since the epoch), sampled every second once asked. */
let lastStarved = 0;
let sampler: NodeJS.Timeout | null = null;

function sampleLoad(): void {
  if (overloaded()) lastStarved = Date.now();
}

/** Sample the host's load every second from now on (a moment's reading misses the bursts). */
export function watchLoad(): void {
  if (sampler) return;
  sampler = setInterval(sampleLoad, 1000);
  sampler.unref();
}

/** Whether the host was starved of CPU at any sampled moment of the last `ms`. */
export function starvedWithin(ms: number): boolean {
  sampleLoad();
  return Date.now() - lastStarved <= ms;
}

/** True when this process leads its own process group (its pgid, field 5 of stat, is its pid). */
export function leadsOwnGroup(): boolean {
  return Number(statFields('self')[2]) === process.pid;
}

/** CPUs this process may run on, from its affinity mask (not just the core count). */
export function usableCpus(fallbackCount: number): number[] {
  const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(readOr('/proc/self/status', ''));
  const cpus = m ? parseCpuList(m[1]!) : [];
  return cpus.length > 0 ? cpus : Array.from({ length: fallbackCount }, (_, i) => i);
}

