// Benchmark: how close together meshperf starts the clients of a round, against a baseline of
// starting the same number of iperf3 clients the plain way (spawned one after another at the
// instant). Runs on loopback with the local transport; needs iperf3 and a build (npm run build).
// Prints each side's median spread and the ratio. Usage: npm run bench
import { spawn } from 'node:child_process';
import { normalizeInventory, runMesh } from '../dist/index.js';
import { median, recordRatio } from './record.mjs';

const HOSTS = 4;
const PROCESSES = 3;
const RUNS = 5;

async function meshperfSpread() {
  const inventory = normalizeInventory({
    transport: 'local',
    test: { duration: 1, processes: PROCESSES, port_range: '7901-7999' },
    hosts: Array.from({ length: HOSTS }, (_, i) => ({ name: `b${i + 1}`, address: `127.0.88.${i + 1}` })),
  });
  const doc = await runMesh({ inventory });
  if (doc.summary.pairs_ok !== doc.summary.pairs) throw new Error(`bench run failed: ${JSON.stringify(doc.summary)}`);
  return doc.summary.start_spread_ms;
}

/** The same clients, spawned one after another at one instant: what a plain loop achieves. */
async function baselineSpread() {
  const n = HOSTS * (HOSTS - 1) * PROCESSES;
  const servers = [];
  for (let i = 0; i < n; i++) servers.push(spawn('iperf3', ['-s', '-1', '-p', String(7801 + i), '-B', '127.0.89.1'], { stdio: 'ignore' }));
  await new Promise((r) => setTimeout(r, 500));
  const starts = [];
  const clients = [];
  for (let i = 0; i < n; i++) {
    clients.push(spawn('iperf3', ['-c', '127.0.89.1', '-p', String(7801 + i), '-t', '1', '-J'], { stdio: 'ignore' }));
    starts.push(performance.now());
  }
  await Promise.all([...clients, ...servers].map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r)))));
  return Math.max(...starts) - Math.min(...starts);
}

const ours = [];
const base = [];
for (let i = 0; i < RUNS; i++) {
  ours.push(await meshperfSpread());
  base.push(await baselineSpread());
}
const m = median(ours);
const b = median(base);
console.log(`clients per round: ${HOSTS * (HOSTS - 1) * PROCESSES} on ${HOSTS} hosts, ${RUNS} runs each`);
console.log(`meshperf start spread (median): ${m.toFixed(1)} ms   [${ours.map((x) => x.toFixed(1)).join(', ')}]`);
console.log(`baseline start spread (median): ${b.toFixed(1)} ms   [${base.map((x) => x.toFixed(1)).join(', ')}]`);
console.log(`ratio baseline / meshperf: ${(b / m).toFixed(1)}x`);
recordRatio({ bench: 'start-spread', label: 'start spread: meshperf / a plain loop', ratio: m / b, detail: `${m.toFixed(1)} ms against ${b.toFixed(1)} ms` });
