// Benchmark: how close together the tests of a full mesh really start, as the wire sees it:
// tcpdump on the lab's bridge takes each test's first data stream (lib/lab/wire.ts), for three
// ways of running the same mesh (one iperf3 per ordered pair, TCP, 2 s) in one run:
//   meshperf      the CLI's own run (runMesh over SSH): servers held, clients connected ahead,
//                 one SIGCONT per host at the instant;
//   parallel-ssh  the hand-written mesh (bench/baselines.mjs);
//   floor         a serial launch loop in each host's namespace, no SSH at all;
//   one-signal    the mechanism alone: all servers in one group held, clients connected, one
//                 SIGCONT from here; what iperf3's own work after the wake costs on these cores.
// Prints each side's median wire spread over RUNS runs, meshperf's own start_spread_ms beside the
// wire's, and the ratios. Needs root on Linux, iperf3, ssh, tcpdump and a build.
// Usage: npm run bench:spread [-- 8 24]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadInventory, runMesh } from '../dist/index.js';
import { labDown, labUp, pickFreeSubnet } from '../dist/lab/lab.js';
import { captureStarts, wireSpread } from '../dist/lab/wire.js';
import { floor, oneSignal, parallelSsh } from './baselines.mjs';
import { median, recordRatio } from './record.mjs';

const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 1);
const RUNS = 3;
const DURATION = 2;
const PORTS = [5201, 5999];

/** One side's run under tcpdump: the wire's spread, and what the side says of itself (meshperf). */
async function onTheWire(lab, side) {
  const capture = await captureStarts(lab.network.bridge, PORTS);
  const [run] = await Promise.allSettled([side(lab)]);
  const { starts, dropped } = await capture.stop();
  if (dropped > 0) throw new Error(`tcpdump lost ${dropped} packets: the wire cannot judge this run`);
  if (run.status === 'rejected') throw run.reason;
  const said = run.value;
  const tests = lab.network.hosts.length * (lab.network.hosts.length - 1);
  if (starts.length !== tests) throw new Error(`the wire saw ${starts.length} of ${tests} tests start`);
  return { wire: wireSpread(starts), said };
}

async function meshperf(lab) {
  const doc = await runMesh({ inventory: await loadInventory(lab.inventory), test: { duration: DURATION, processes: 1, port_range: PORTS } });
  if (doc.summary.instances_ok !== doc.summary.instances) throw new Error(`meshperf: ${doc.summary.instances_ok}/${doc.summary.instances} instances`);
  return doc.run.rounds[0].start_spread_ms;
}

const SIDES = { meshperf, 'parallel-ssh': (lab) => parallelSsh(lab, DURATION).then(() => null), floor: (lab) => floor(lab, DURATION).then(() => null), 'one-signal': (lab) => oneSignal(lab, DURATION).then(() => null) };
for (const n of SIZES.length ? SIZES : [8]) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `meshperf-bench-spread-${n}-`));
  const lab = await labUp({ hosts: n, dir: path.join(dir, 'lab'), subnet: await pickFreeSubnet() });
  try {
    const wire = Object.fromEntries(Object.keys(SIDES).map((k) => [k, []]));
    const said = [];
    for (let i = 0; i < RUNS; i++) {
      for (const [name, side] of Object.entries(SIDES)) {
        const r = await onTheWire(lab, side);
        wire[name].push(r.wire);
        if (name === 'meshperf') said.push(r.said);
      }
    }
    console.log(`${n} hosts, ${n * (n - 1)} tests, ${DURATION} s, spread of the real starts on the wire, median of ${RUNS}:`);
    for (const k of Object.keys(SIDES)) console.log(`  ${k.padEnd(13)} ${median(wire[k]).toFixed(1)} ms   [${wire[k].map((x) => x.toFixed(1)).join(', ')}]`);
    console.log(`  meshperf's own start_spread_ms: [${said.join(', ')}]`);
    const m = median(wire.meshperf);
    console.log(`  ratio meshperf / parallel-ssh ${(m / median(wire['parallel-ssh'])).toFixed(3)}x, meshperf / floor ${(m / median(wire.floor)).toFixed(3)}x, meshperf / one-signal ${(m / median(wire['one-signal'])).toFixed(3)}x`);
    recordRatio({ bench: 'start-spread', label: `${n} hosts: wire start spread, meshperf / parallel-ssh`, ratio: m / median(wire['parallel-ssh']), goal: n <= 8 ? 0.05 : null, detail: `${m.toFixed(1)} ms against ${median(wire['parallel-ssh']).toFixed(1)} ms` });
    recordRatio({ bench: 'start-spread', label: `${n} hosts: wire start spread, meshperf / one signal to held servers`, ratio: m / median(wire['one-signal']), detail: `${m.toFixed(1)} ms against ${median(wire['one-signal']).toFixed(1)} ms` });
    recordRatio({ bench: 'start-spread', label: `${n} hosts: wire start spread, meshperf / a launch loop`, ratio: m / median(wire.floor), detail: `${m.toFixed(1)} ms against ${median(wire.floor).toFixed(1)} ms` });
  } finally {
    await labDown(path.join(dir, 'lab'));
    rmSync(dir, { recursive: true, force: true });
  }
}
