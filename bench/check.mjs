// Benchmark: meshperf check on large labs (default 50, 100 and 200 hosts; others as arguments),
// against a baseline measured in the same run: `ssh root@host true` to every host, 8 at a time
// (ssh.concurrency's default), i.e. only reaching each host and running nothing. Prints, per size,
// check's wall time (median of 3), its controller CPU seconds and peak RSS (GNU time), the
// baseline's wall time, and the ratio check / baseline, with how many pairs each check reached.
// The lab's hosts run in a CPU cgroup of their own, as on a real cluster the controller has a
// machine of its own: else Linux's autogroup gives each of 200 busy SSH sessions as much CPU as the
// controller, which stalls for seconds (docs/performance.md). Needs root on Linux, cgroup's cpu
// controller (v1 or v2), GNU time (/usr/bin/time) and a build. Usage: npm run bench:check [-- 50 200]
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { labDown, labUp, pickFreeSubnet } from '../dist/lab/lab.js';
import { describeUnitCosts, leastSeconds, measureUnitCosts } from './least-cost.mjs';
import { cliUnderTime, hostsCgroup, labSsh, median, recordRatio } from './record.mjs';

const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 1);
const RUNS = 3;
const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;

/** `ssh true` to every host, `width` at a time: the floor of reaching them all. */
async function sshBaseline(lab, width) {
  const hosts = lab.network.hosts.map((h) => h.address);
  const args = (h) => [...labSsh(lab, h), 'true'];
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < hosts.length; i = next++) {
      await new Promise((resolve, reject) => {
        spawn('ssh', args(hosts[i]), { stdio: 'ignore' }).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh ${hosts[i]} failed`))));
      });
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return performance.now() - start;
}

function check(inventory) {
  const r = cliUnderTime(BIN, ['check', '--inventory', inventory, '--json']);
  const report = JSON.parse(r.stdout);
  return { wall: r.wall * 1000, cpu: r.cpu, rss: r.rss, ok: report.ok, reach: report.hosts.reduce((a, h) => a + h.reach.ok, 0) };
}

for (const n of SIZES.length ? SIZES : [50, 100, 200]) {
  const dir = path.join(os.tmpdir(), `meshperf-bench-check-${process.pid}-${n}`);
  const built = performance.now();
  const lab = await labUp({ hosts: n, dir, subnet: await pickFreeSubnet() });
  const buildS = (performance.now() - built) / 1000;
  let removeCgroup = () => {};
  try {
    removeCgroup = hostsCgroup(lab);
    const runs = [];
    const base = [];
    for (let i = 0; i < RUNS; i++) {
      base.push(await sshBaseline(lab, 8));
      runs.push(check(lab.inventory));
    }
    const c = runs.find((r) => r.wall === median(runs.map((x) => x.wall)));
    console.log(
      `${n} hosts (lab built in ${buildS.toFixed(0)} s): check ${(c.wall / 1000).toFixed(2)} s wall (${runs.map((r) => (r.wall / 1000).toFixed(2)).join(', ')}), ` +
        `${c.cpu.toFixed(2)} CPU-s, ${c.rss.toFixed(0)} MB peak RSS, pairs reached ${runs.map((r) => r.reach).join(', ')} of ${n * (n - 1)}${runs.every((r) => r.ok) ? '' : ' (NOT all well)'}; ` +
        `ssh true to every host, 8 at a time: ${(median(base) / 1000).toFixed(2)} s; ratio check / ssh ${(c.wall / median(base)).toFixed(2)}x`,
    );
    const detail = `${(c.wall / 1000).toFixed(1)} s, ${c.cpu.toFixed(1)} CPU-s, ${c.rss.toFixed(0)} MB, ${c.reach} of ${n * (n - 1)} pairs; ssh true ${(median(base) / 1000).toFixed(1)} s`;
    recordRatio({ bench: 'check', label: `${n} hosts: check / ssh true`, ratio: c.wall / median(base), detail });
    // The goal at 200 hosts: 12 s wall, as a ratio of this run's own ssh baseline.
    if (n === 200) {
      recordRatio({ bench: 'check', label: '200 hosts: check / 12 s goal', ratio: c.wall / 12_000, goal: 1, detail });
      // And the goal against the least that an SSH login and a Node.js daemon on every host cost
      // on these cores (bench/least-cost.mjs): above 1, no check built of them can meet it here.
      const costs = measureUnitCosts(lab);
      const least = leastSeconds(costs, { hosts: n });
      console.log(`  the least possible here: ${least.toFixed(1)} s (${describeUnitCosts(costs)}): ${(least / 12).toFixed(2)}x the 12 s goal`);
      recordRatio({ bench: 'check', label: "200 hosts: least possible check / 12 s goal", ratio: least / 12, detail: `${least.toFixed(1)} s; ${describeUnitCosts(costs)}` });
    }
  } finally {
    await labDown(dir);
    await new Promise((r) => setTimeout(r, 500)); // the last sessions leave the group
    removeCgroup();
  }
}
