// What a benchmark measured, for `npm run bench` (bench/all.mjs): each ratio one JSON line
// appended to the file named by MESHPERF_BENCH_RESULTS, when it is set. Run alone, a benchmark
// only prints. And the median every benchmark reports.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * One ratio of a benchmark against its baseline. `goal`: the ratio it must not exceed (lower is
 * better), or null when it is only watched.
 */
export function recordRatio({ bench, label, ratio, goal = null, detail = '' }) {
  const file = process.env.MESHPERF_BENCH_RESULTS;
  if (file) appendFileSync(file, JSON.stringify({ bench, label, ratio: Number(ratio.toPrecision(3)), goal, detail }) + '\n');
}

/** OpenSSH's arguments to log in to a lab host as root with the lab's key, its host key checked. */
export const labSsh = (lab, address) => ['-i', path.join(lab.dir, 'id_ed25519'), '-o', `UserKnownHostsFile=${path.join(lab.dir, 'known_hosts')}`, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', `root@${address}`];

/**
 * CPU seconds this whole machine has been busy (user, system, interrupts; not idle or I/O wait):
 * the lab's hosts share its cores, so a side that keeps them all busy cannot go faster.
 */
export function machineBusySeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + steal) / 100; // USER_HZ is 100 on Linux
}

/**
 * Run the meshperf CLI to its end under GNU time (/usr/bin/time): its exit status and output, wall
 * seconds, CPU seconds (user + system) and peak RSS in MB.
 */
export function cliUnderTime(bin, args) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-bench-time-'));
  try {
    const start = performance.now();
    const r = spawnSync('/usr/bin/time', ['-o', path.join(dir, 'time'), '-f', '%U %S %M', process.execPath, bin, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
    const wall = (performance.now() - start) / 1000;
    const [user, sys, rssKb] = readFileSync(path.join(dir, 'time'), 'utf8').trim().split('\n').pop().split(' ').map(Number);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, wall, cpu: user + sys, rss: rssKb / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The middle run (the upper one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Put the lab's sshds (and so every login, daemon and probe they start) in one CPU cgroup. */
export function hostsCgroup(lab) {
  const v1 = existsSync('/sys/fs/cgroup/cpu/cpu.shares');
  const group = v1 ? `/sys/fs/cgroup/cpu/meshperf-bench-${process.pid}` : `/sys/fs/cgroup/meshperf-bench-${process.pid}`;
  if (!v1) writeFileSync('/sys/fs/cgroup/cgroup.subtree_control', '+cpu');
  mkdirSync(group);
  for (const pid of lab.sshdPids) writeFileSync(path.join(group, 'cgroup.procs'), String(pid));
  return () => rmdirSync(group);
}
