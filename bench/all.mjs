// `npm run bench`: every benchmark in turn, each against the baseline it measures in the same run,
// then the table and chart of their ratios: printed, and, after a full run, kept in docs/bench.json
// and rendered into docs/performance.md (between its bench markers) and docs/bench.svg.
// Needs root on Linux, iperf3, sshd, GNU time and a build; about 40 minutes on 2 cores.
// Usage: npm run bench [-- overhead check ...]   (some of them: printed only)
//        node bench/all.mjs --render              (the page and chart again from docs/bench.json)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchSvg, benchTable } from './plot.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const docs = path.join(here, '..', 'docs');
const data = path.join(docs, 'bench.json');
const BENCHES = {
  overhead: ['overhead.mjs', '8', '16'],
  check: ['check.mjs', '50', '100', '200'],
  memory: ['memory.mjs'],
  'start-spread': ['start-spread.mjs'],
  bastion: ['bastion.mjs'],
  'busy-hosts': ['busy-hosts.mjs'],
  'controller-cpu': ['controller-cpu.mjs'],
  'large-docs': ['large-docs.mjs'],
};

/** Run the benchmarks named (all when none); returns their ratios and how many failed. */
function runAll(only) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'meshperf-bench-all-'));
  const file = path.join(tmp, 'results.jsonl');
  writeFileSync(file, '');
  let failed = 0;
  try {
    for (const [name, [script, ...args]] of Object.entries(BENCHES)) {
      if (only.length && !only.includes(name)) continue;
      console.log(`\n== ${name} ==`);
      const r = spawnSync(process.execPath, [path.join(here, script), ...args], { stdio: 'inherit', env: { ...process.env, MESHPERF_BENCH_RESULTS: file } });
      if (r.status !== 0) failed++, console.log(`${name}: exited ${r.status ?? r.signal}`);
    }
    return { entries: readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)), failed };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** docs/performance.md's table (between the bench markers) and docs/bench.svg, from a run. */
function render({ date, cores, entries }) {
  const table = benchTable(entries);
  writeFileSync(path.join(docs, 'bench.svg'), benchSvg(entries, `meshperf benchmarks, ${cores} cores, ${date} (lower is better)`));
  const page = path.join(docs, 'performance.md');
  const text = readFileSync(page, 'utf8');
  const [start, end] = ['<!-- bench:start -->', '<!-- bench:end -->'];
  const body = `\nLast full \`npm run bench\`: ${date}, ${cores} cores ([bench.json](bench.json)).\n\n${table}\n\n![each ratio against its goal](bench.svg)\n`;
  writeFileSync(page, text.slice(0, text.indexOf(start) + start.length) + body + text.slice(text.indexOf(end)));
  return table;
}

const args = process.argv.slice(2);
if (args.includes('--render')) {
  render(JSON.parse(readFileSync(data, 'utf8')));
} else {
  const { entries, failed } = runAll(args);
  const run = { date: new Date().toISOString().slice(0, 10), cores: os.cpus().length, entries };
  if (!args.length) {
    writeFileSync(data, JSON.stringify(run, null, 1) + '\n');
    console.log(`\n${render(run)}\nwritten: docs/bench.json, docs/performance.md (table), docs/bench.svg`);
  } else console.log(`\n${benchTable(entries)}`);
  process.exitCode = failed ? 1 : 0;
}
