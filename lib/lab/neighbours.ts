/**
 * Neighbour entries, made two ways here. First, their room: the kernel counts the neighbour (ARP/NDP) entries of every network namespace against one limit
 * (net.ipv4.neigh.default.gc_thresh3, 1024 by default): a lab of N hosts on one bridge needs
 * N·(N−1) of them per network, so past ~30 hosts a full mesh sees "neighbor table overflow" and
 * connects that never get an answer. A lab raises the limits (never lowers them) to fit; the
 * values it found are kept in one file for the machine, and put back when the last lab goes.
 * Second, the entries themselves (knownNeighbours): on a real L2 network of 200 hosts each host
 * answers its own ARP, on its own CPU; here every host's broadcasts are copied to every port of one
 * bridge, on two cores shared by all (200 hosts: 40,000 resolutions, 8 million copies), which
 * starved a 200-host `meshperf check` until 68 % of its probes timed out. The lab writes each
 * host's peers into its table as permanent entries, so that no one has to ask.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { run } from './exec.js';
import type { LabNetwork } from './network.js';

const KNOBS = ['ipv4', 'ipv6'].flatMap((f) => ['gc_thresh2', 'gc_thresh3'].map((k) => `/proc/sys/net/${f}/neigh/default/${k}`));
/** The machine's own values, from before the first lab raised them (root's tmpfs, gone at reboot like the raise). */
export const ORIGINALS = '/run/meshperf-lab-neighbours.json';

/** Raise the limits to hold `entries`, with room to spare. */
export async function makeNeighbourRoom(entries: number): Promise<void> {
  const originals: Record<string, number> = existsSync(ORIGINALS) ? JSON.parse(await readFile(ORIGINALS, 'utf8')) : {};
  for (const file of KNOBS) {
    const current = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (!Number.isFinite(current) || current === 0) continue;
    const want = file.endsWith('gc_thresh3') ? 2 * entries : entries;
    if (current >= want) continue;
    originals[file] ??= current;
    await writeFile(file, String(want));
  }
  if (Object.keys(originals).length) await writeFile(ORIGINALS, JSON.stringify(originals) + '\n');
}

/** Put the machine's values back (when no lab is left). */
export async function restoreNeighbourRoom(): Promise<void> {
  if (!existsSync(ORIGINALS)) return;
  const originals: Record<string, number> = JSON.parse(await readFile(ORIGINALS, 'utf8'));
  for (const [file, value] of Object.entries(originals)) await writeFile(file, String(value)).catch(() => {});
  await rm(ORIGINALS, { force: true });
}

/** Every host learns every peer's MAC on each network they share, as a permanent entry. */
export async function knownNeighbours(net: LabNetwork): Promise<void> {
  // Each host's (address, device, MAC) on each network: index 0 is management, k the k-th rail.
  const ends = await Promise.all(
    net.hosts.map(async (h) => {
      const links = JSON.parse(await run('ip', ['-n', h.namespace, '-j', 'link', 'show'])) as { ifname: string; address: string }[];
      const mac = (dev: string) => links.find((l) => l.ifname === dev)?.address;
      const main = [{ address: h.address, device: 'eth0', mac: mac('eth0') }, ...(h.address6 ? [{ address: h.address6, device: 'eth0', mac: mac('eth0') }] : [])];
      return [main, ...h.rails.map((r) => [{ address: r.address, device: r.device, mac: mac(r.device) }])];
    }),
  );
  await Promise.all(
    net.hosts.map((h, i) => {
      const lines = ends[i]!.flatMap((mine, k) =>
        ends.flatMap((theirs, j) => (j === i ? [] : theirs[k]!.filter((e) => e.mac).map((e) => `neigh replace ${e.address} lladdr ${e.mac} dev ${mine[0]!.device} nud permanent`))),
      );
      return lines.length ? run('ip', ['-n', h.namespace, '-batch', '-'], lines.join('\n') + '\n') : undefined;
    }),
  );
}
