// `npm run bench`: every benchmark in turn, each against the baseline it measures in the same run,
// then the table and chart of their ratios: printed, and written into docs/performance.md (between
// its bench markers) and docs/bench.svg. Needs root on Linux, iperf3, sshd, GNU time and a build;
// takes about half an hour on 2 cores. Usage: npm run bench [-- overhead check ...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchSvg, benchTable } from './plot.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const docs = path.join(here, '..', 'docs');
const BENCHES = {
  overhead: ['overhead.mjs', '8', '16'],
  check: ['check.mjs', '50', '100', '200'],
  memory: ['memory.mjs'],
  'start-spread': ['start-spread.mjs'],
  bastion: ['bastion.mjs'],
};
const only = process.argv.slice(2);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'meshperf-bench-all-'));
const file = path.join(tmp, 'results.jsonl');
let failed = 0;
try {
  for (const [name, [script, ...args]] of Object.entries(BENCHES)) {
    if (only.length && !only.includes(name)) continue;
    console.log(`\n== ${name} ==`);
    const r = spawnSync(process.execPath, [path.join(here, script), ...args], { stdio: 'inherit', env: { ...process.env, MESHPERF_BENCH_RESULTS: file } });
    if (r.status !== 0) failed++, console.log(`${name}: exited ${r.status ?? r.signal}`);
  }
  const entries = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const table = benchTable(entries);
  const when = new Date().toISOString().slice(0, 10);
  console.log(`\n${table}`);
  writeFileSync(path.join(docs, 'bench.svg'), benchSvg(entries, `meshperf benchmarks, ${os.cpus().length} cores, ${when} (lower is better)`));
  const page = path.join(docs, 'performance.md');
  const text = readFileSync(page, 'utf8');
  const [start, end] = ['<!-- bench:start -->', '<!-- bench:end -->'];
  if (!only.length && text.includes(start)) {
    writeFileSync(page, text.slice(0, text.indexOf(start) + start.length) + `\nLast \`npm run bench\`: ${when}, ${os.cpus().length} cores.\n\n${table}\n\n![the ratios against their goals](bench.svg)\n` + text.slice(text.indexOf(end)));
    console.log(`written: docs/performance.md (table), docs/bench.svg`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
