// Benchmark: the controller's work per host per second of test, as the lab grows. For each size
// (default 8, 24, 48 hosts), the CLI under GNU time twice, `--schedule sample --peers 2 --bitrate
// 10M` (each host's own load the same at every size), with 2 s and 22 s tests: the difference in
// controller CPU over the difference in test seconds and hosts is what each host costs it per
// second while tests run (heartbeats, health samples, live progress). Issue 19's goal: flat
// within ±30 % from 8 to 48 hosts. Prints each size and the ratio largest / smallest.
// Needs root on Linux, iperf3, sshd, GNU time and a build. Usage: node bench/controller-cpu.mjs [8 24 48]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labDown, labUp, pickFreeSubnet } from '../dist/lab/lab.js';
import { cliUnderTime, hostsCgroup, recordRatio } from './record.mjs';

const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 1);
const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;
const [SHORT, LONG] = [2, 22];

function cpuOf(inventory, duration) {
  const out = mkdtempSync(path.join(os.tmpdir(), 'meshperf-bench-cpu-'));
  try {
    const r = cliUnderTime(BIN, ['--inventory', inventory, '--schedule', 'sample', '--peers', '2', '--sample-rounds', '1', '--bitrate', '10M', '--duration', String(duration), '--out', path.join(out, 'r')]);
    if (r.status !== 0 && r.status !== 3) throw new Error(`meshperf exited ${r.status}: ${r.stderr.slice(-1500)}`);
    return r.cpu;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const perHost = {};
for (const n of SIZES.length ? SIZES : [8, 24, 48]) {
  const dir = path.join(os.tmpdir(), `meshperf-bench-cpu-${process.pid}-${n}`);
  const lab = await labUp({ hosts: n, dir, subnet: await pickFreeSubnet() });
  let removeCgroup = () => {};
  try {
    removeCgroup = hostsCgroup(lab);
    const short = cpuOf(lab.inventory, SHORT);
    const long = cpuOf(lab.inventory, LONG);
    perHost[n] = ((long - short) * 1000) / (n * (LONG - SHORT));
    console.log(`${n} hosts: controller ${short.toFixed(2)} CPU-s with ${SHORT} s tests, ${long.toFixed(2)} with ${LONG} s: ${perHost[n].toFixed(2)} ms of CPU per host per second of test`);
  } finally {
    await labDown(dir);
    await new Promise((r) => setTimeout(r, 500)); // the last sessions leave the group
    removeCgroup();
  }
}
const values = Object.values(perHost);
const ratio = Math.max(...values) / Math.min(...values);
console.log(`largest / smallest per-host cost: ${ratio.toFixed(2)}x (goal: within 1.3x)`);
recordRatio({ bench: 'controller-cpu', label: 'controller CPU per host per test second, largest / smallest size', ratio, goal: 1.3, detail: Object.entries(perHost).map(([n, v]) => `${n} hosts ${v.toFixed(2)} ms`).join(', ') });
