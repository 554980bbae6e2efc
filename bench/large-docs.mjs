// Benchmark: the controller's peak memory against what it writes, for long tests with many
// streams: 3 lab hosts, 8 processes of 32 streams per pair, 1 Mbit/s each, 120 s (issue 19's case:
// about 74 MB of results.json). Prints the CLI's peak RSS (GNU time), the size of results.json and
// their ratio; issue 19's goal: at most 2x. Needs root on Linux, iperf3, sshd, GNU time and a
// build. Usage: node bench/large-docs.mjs [seconds]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labDown, labUp, pickFreeSubnet } from '../dist/lab/lab.js';
import { cliUnderTime, recordRatio } from './record.mjs';

const DURATION = process.argv[2] ?? '120';
const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;

const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-bench-docs-'));
const lab = await labUp({ hosts: 3, dir: path.join(dir, 'lab'), subnet: await pickFreeSubnet() });
try {
  const out = path.join(dir, 'out');
  const r = cliUnderTime(BIN, ['--inventory', lab.inventory, '--duration', DURATION, '--processes', '8', '--parallel', '32', '--bitrate', '1M', '--out', out]);
  if (r.status !== 0 && r.status !== 3) throw new Error(`meshperf exited ${r.status}: ${r.stderr.slice(-1500)}`);
  const json = statSync(path.join(out, 'results.json')).size / 2 ** 20;
  console.log(`3 hosts, 8 x -P 32, ${DURATION} s: peak RSS ${r.rss.toFixed(0)} MB for ${json.toFixed(1)} MB of results.json: ${(r.rss / json).toFixed(2)}x (goal <= 2); ${r.cpu.toFixed(1)} controller CPU-s`);
  recordRatio({ bench: 'large-docs', label: 'peak RSS / results.json, 3 hosts, 8 x -P 32, 120 s', ratio: r.rss / json, goal: 2, detail: `${r.rss.toFixed(0)} MB for ${json.toFixed(1)} MB` });
} finally {
  await labDown(path.join(dir, 'lab'));
  rmSync(dir, { recursive: true, force: true });
}
