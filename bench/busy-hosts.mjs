// Benchmark: a busy host is never taken for dead, at cluster size. 200 lab hosts (all on this
// machine's cores, so every host is saturated while servers start and tests run), `--schedule
// sample --peers 2 --bitrate 10M`, 2 s tests, RUNS runs: how many hosts were lost and how many of
// the planned pairs were measured, with the wall time against the least possible run of the same
// parts (bench/least-cost.mjs). Issue 19's goal: every planned pair measured, no host lost, in
// every run. The lab's sshds share one CPU cgroup, as the controller has a machine of its own on a
// real cluster. Needs root on Linux, iperf3, sshd, GNU time and a build.
// Usage: node bench/busy-hosts.mjs [hosts]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labDown, labUp, pickFreeSubnet } from '../dist/lab/lab.js';
import { cliUnderTime, hostsCgroup, median, recordRatio } from './record.mjs';

const HOSTS = Number(process.argv[2] ?? 200);
const RUNS = 3;
const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;

function sampleRun(inventory) {
  const out = mkdtempSync(path.join(os.tmpdir(), 'meshperf-bench-busy-'));
  try {
    const r = cliUnderTime(BIN, ['--inventory', inventory, '--schedule', 'sample', '--peers', '2', '--bitrate', '10M', '--duration', '2', '--out', path.join(out, 'r')]);
    const doc = JSON.parse(readFileSync(path.join(out, 'r', 'results.json'), 'utf8'));
    const lost = doc.run.hosts.filter((h) => h.status !== 'ok');
    return { status: r.status, wall: r.wall, cpu: r.cpu, rss: r.rss, lost: lost.length, why: lost.slice(0, 3).map((h) => `${h.name}: ${h.error?.code} ${h.error?.message}`), planned: doc.run.coverage.pairs, measured: doc.summary.pairs_ok };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const dir = path.join(os.tmpdir(), `meshperf-bench-busy-${process.pid}`);
const lab = await labUp({ hosts: HOSTS, dir, subnet: await pickFreeSubnet() });
let removeCgroup = () => {};
try {
  removeCgroup = hostsCgroup(lab);
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const r = sampleRun(lab.inventory);
    runs.push(r);
    console.log(`run ${i + 1}: exit ${r.status}, ${r.lost} hosts lost, ${r.measured} of ${r.planned} planned pairs measured, ${r.wall.toFixed(1)} s wall, ${r.cpu.toFixed(1)} controller CPU-s, ${r.rss.toFixed(0)} MB${r.why.length ? `; ${r.why.join(' | ')}` : ''}`);
  }
  const whole = runs.filter((r) => r.lost === 0 && r.measured === r.planned).length;
  console.log(`${HOSTS} hosts, sample of 2 peers at 10M: ${whole} of ${RUNS} runs with no host lost and every planned pair measured; median wall ${median(runs.map((r) => r.wall)).toFixed(1)} s`);
  recordRatio({ bench: 'busy-hosts', label: `${HOSTS} hosts under sample: runs with a host lost or a pair unmeasured / runs`, ratio: (RUNS - whole) / RUNS, goal: 0, detail: runs.map((r) => `${r.lost} lost, ${r.measured}/${r.planned}`).join('; ') });
} finally {
  await labDown(dir);
  await new Promise((r) => setTimeout(r, 500)); // the last sessions leave the group
  removeCgroup();
}
