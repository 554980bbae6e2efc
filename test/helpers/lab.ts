/** An emulated cluster for one test, on the test's own /24, removed when the test ends. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { hostFiles, labDown, labUp, LabState, LabUpOptions } from '../../lib/lab/lab.js';
import { isDaemon, isIperf, processes, Proc } from './procs.js';

export const canRunLab = process.platform === 'linux' && process.getuid?.() === 0;
export const NO_LAB_REASON = 'needs root on Linux for network namespaces and sshd';

export async function withLab(t: Test, hosts: number, subnet: string, shape: Omit<LabUpOptions, 'hosts' | 'dir' | 'subnet'> = {}): Promise<LabState & { tmp: string }> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'meshperf-test-'));
  t.teardown(async () => {
    await labDown(path.join(tmp, 'lab')).catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  });
  const lab = await labUp({ hosts, dir: path.join(tmp, 'lab'), subnet, test: { duration: 2 }, ...shape });
  return { ...lab, tmp };
}

/** Every iperf3 or meshperf daemon still running inside a lab host. */
export async function leftovers(lab: LabState): Promise<Proc[]> {
  // One pass over /proc, matching each iperf3's and daemon's network namespace by inode: with a
  // thousand processes running, `ip netns pids` per namespace took seconds, longer than the
  // bounds the tests check against.
  const names = [...lab.network.hosts.map((h) => h.namespace), ...(lab.network.bastion ? [lab.network.bastion.namespace] : [])];
  const inodes = new Set(names.flatMap((n) => attempt(() => `net:[${statSync(`/run/netns/${n}`).ino}]`) ?? []));
  return processes().filter((p) => (isIperf(p) || isDaemon(p)) && inodes.has(attempt(() => readlinkSync(`/proc/${p.pid}/ns/net`)) ?? ''));
}

/** fn's value, or undefined when it throws (a namespace or process gone while we looked). */
function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/**
 * Every file under the places a daemon could write. Compared before and after a run, new paths
 * are what the run wrote (whatever else runs on this machine may modify its own existing files).
 */
export function filesOnHost(lab: LabState & { tmp: string }): Set<string> {
  const find = (args: string[]) => execFileSync('find', args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  // The hosts share /tmp and /var/tmp (one filesystem), and each has a home of its own in the lab.
  const homes = [...lab.network.hosts.map((h) => h.name), ...(lab.network.bastion ? ['bastion'] : [])].map((n) => hostFiles(lab.dir, n).home);
  const out = find(['/tmp', '/var/tmp', '-xdev', '-not', '-type', 'd']) + find([os.homedir(), ...homes, '-xdev', '-maxdepth', '2', '-not', '-type', 'd']);
  // A test's own directories (this one's, and those of lab tests running beside it) are not the
  // hosts' files; this lab's hosts' homes are.
  const tests = path.join(os.tmpdir(), 'meshperf-test-');
  return new Set(out.split('\n').filter((f) => f && (!f.startsWith(tests) || homes.some((h) => f.startsWith(h + '/')))));
}

