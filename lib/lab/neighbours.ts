/**
 * The kernel counts the neighbour (ARP/NDP) entries of every network namespace against one limit
 * (net.ipv4.neigh.default.gc_thresh3, 1024 by default): a lab of N hosts on one bridge needs
 * N·(N−1) of them per network, so past ~30 hosts a full mesh sees "neighbor table overflow" and
 * connects that never get an answer. A lab raises the limits (never lowers them) to fit; the
 * values it found are kept in one file for the machine, and put back when the last lab goes.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';

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
