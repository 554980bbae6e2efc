/**
 * The host's network interfaces as the kernel describes them: addresses, MTU, speed, NUMA node,
 * driver, and byte counters. Read from /sys/class/net and /proc/net/dev of the daemon's own
 * network namespace; anything the kernel does not say is null, never a guess.
 */
import { lookup } from 'node:dns/promises';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InterfaceFacts, InterfacesResult } from '../protocol/messages.js';

export function readInterfaces(): InterfacesResult {
  const counters = parseProcNetDev(readText('/proc/net/dev') ?? '');
  const addrs = os.networkInterfaces();
  const names = new Set([...counters.keys(), ...Object.keys(addrs)]);
  const interfaces: InterfaceFacts[] = [...names].sort().map((name) => {
    const sys = (f: string) => readText(path.join('/sys/class/net', name, f));
    const num = (f: string) => {
      const n = Number(sys(f)?.trim());
      return sys(f) === null || !Number.isFinite(n) ? null : n;
    };
    const speed = num('speed');
    const numa = num('device/numa_node');
    return {
      name,
      addresses: (addrs[name] ?? []).map((a) => (a.family === 'IPv6' && a.scopeid ? `${a.address}%${name}` : a.address)),
      mtu: num('mtu'),
      // -1 (unknown) and a link that is down both read as "not said".
      speed_mbps: speed !== null && speed > 0 ? speed : null,
      numa_node: numa !== null && numa >= 0 ? numa : null,
      driver: driverOf(name),
      rx_bytes: counters.get(name)?.rx ?? 0,
      tx_bytes: counters.get(name)?.tx ?? 0,
    };
  });
  return { interfaces, time_ms: Date.now() };
}

/** Names resolved by the host's own resolver (split-horizon DNS, /etc/hosts), as iperf3 will. */
export async function resolveNames(names: string[]): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  await Promise.all(names.map(async (n) => (out[n] = await lookup(n).then((r) => r.address, () => null))));
  return out;
}

/** "/proc/net/dev" text -> name -> received and transmitted bytes. */
export function parseProcNetDev(text: string): Map<string, { rx: number; tx: number }> {
  const out = new Map<string, { rx: number; tx: number }>();
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes ...
    out.set(m[1]!, { rx: f[0] ?? 0, tx: f[8] ?? 0 });
  }
  return out;
}

function driverOf(name: string): string | null {
  try {
    return path.basename(readlinkSync(path.join('/sys/class/net', name, 'device/driver')));
  } catch {
    return null;
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
