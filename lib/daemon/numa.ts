/**
 * NUMA placement: an iperf3 bound to an address is best pinned to a core of the NIC's own NUMA
 * node (its DMA buffers and interrupts are there). The kernel says where a NIC is in
 * /sys/class/net/<if>/device/numa_node (-1 or absent: it does not know, as for virtual devices).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseCpuList } from '../shared/cpus.js';

/** The cores near an address's NIC, as far as the host knows: its NUMA node and that node's CPUs. */
export function numaOf(address: string): { node: number; cpus: number[] } | null {
  const name = Object.entries(os.networkInterfaces()).find(([, list]) => list?.some((a) => a.address === address.split('%')[0]))?.[0];
  if (!name) return null;
  try {
    const node = Number(readFileSync(`/sys/class/net/${name}/device/numa_node`, 'utf8').trim());
    if (!Number.isInteger(node) || node < 0) return null;
    return { node, cpus: parseCpuList(readFileSync(`/sys/devices/system/node/node${node}/cpulist`, 'utf8').trim()) };
  } catch {
    return null;
  }
}

/**
 * The cores to hand out for processes bound near `numa`: those of the allowed list on the NIC's
 * node, when the host's `cpus` leave any; else the whole allowed list (placement is a
 * preference, never a reason to refuse).
 */
export function coresNear(allowed: readonly number[], numa: { cpus: number[] } | null): readonly number[] {
  if (!numa) return allowed;
  const near = allowed.filter((c) => numa.cpus.includes(c));
  return near.length ? near : allowed;
}
