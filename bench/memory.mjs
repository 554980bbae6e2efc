// Benchmark: the controller's peak memory as a run grows. One lab of 32 hosts; the baseline is a
// run of its first 4 hosts, 3 rounds of one peer each (12 pairs measured); the large run is all
// 32 hosts, 3 rounds of 8 peers each (768 pairs measured, 64x the documents). Each side runs the
// CLI with --out under GNU time, RUNS times in turn; prints each side's median peak RSS, results.json
// size and the ratio large / baseline (issue 11's goal: at most 2x). Needs root on Linux, iperf3,
// GNU time (/usr/bin/time) and a build. Usage: npm run bench:memory
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labDown, labUp, pickFreeSubnet } from '../dist/lab/lab.js';
import { cliUnderTime, median, recordRatio } from './record.mjs';

const HOSTS = 32;
const RUNS = 3;
const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;

/** The lab's inventory cut to its first n hosts (the [[hosts]] blocks come last, one per host). */
function firstHosts(inventory, n) {
  const blocks = readFileSync(inventory, 'utf8').split('[[hosts]]');
  const file = inventory.replace(/\.toml$/, `-${n}.toml`);
  writeFileSync(file, blocks.slice(0, n + 1).join('[[hosts]]'));
  return file;
}

/** One run of the CLI: its peak RSS in MB, wall seconds and what it wrote. */
function run(inventory, peers) {
  const out = mkdtempSync(path.join(os.tmpdir(), 'meshperf-bench-memory-'));
  const args = ['--inventory', inventory, '--duration', '2', '--processes', '1', '--schedule', 'sample', '--peers', String(peers), '--sample-rounds', '3', '--seed', '1', '--out', path.join(out, 'r')];
  try {
    const r = cliUnderTime(BIN, args);
    if (r.status !== 0 && r.status !== 3) throw new Error(`meshperf exited ${r.status}: ${r.stderr.slice(-2000)}`);
    const doc = JSON.parse(readFileSync(path.join(out, 'r', 'results.json'), 'utf8'));
    return {
      rss: r.rss,
      wall: r.wall,
      json: statSync(path.join(out, 'r', 'results.json')).size / 2 ** 20,
      measured: doc.summary.pairs_ok,
      instances: doc.summary.instances,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const dir = path.join(os.tmpdir(), `meshperf-bench-memory-${process.pid}`);
const lab = await labUp({ hosts: HOSTS, dir, subnet: await pickFreeSubnet() });
try {
  const small = firstHosts(lab.inventory, 4);
  const sides = { '4 hosts, 1 peer': [], [`${HOSTS} hosts, 8 peers`]: [] };
  for (let i = 0; i < RUNS; i++) {
    sides['4 hosts, 1 peer'].push(run(small, 1));
    sides[`${HOSTS} hosts, 8 peers`].push(run(lab.inventory, 8));
  }
  const med = (k) => median(sides[k].map((r) => r.rss));
  console.log(`controller peak RSS, 3 rounds, 2 s tests, median of ${RUNS}:`);
  for (const [k, rs] of Object.entries(sides)) {
    console.log(`  ${k.padEnd(18)} ${med(k).toFixed(0)} MB   [${rs.map((r) => r.rss.toFixed(0)).join(', ')}]  ${rs[0].instances} instances, ${rs[0].json.toFixed(1)} MB results.json, ${median(rs.map((r) => r.wall)).toFixed(1)} s`);
  }
  const [a, b] = Object.keys(sides);
  console.log(`  ratio ${b} / ${a}: ${(med(b) / med(a)).toFixed(2)}x (goal <= 2)`);
  recordRatio({ bench: 'memory', label: `peak RSS ${HOSTS} hosts / 4 hosts`, ratio: med(b) / med(a), goal: 2, detail: `${med(a).toFixed(0)} MB and ${med(b).toFixed(0)} MB` });
} finally {
  await labDown(dir);
}
