// Benchmark: meshperf's overhead (wall time minus the test's duration) for one full mesh of a lab
// (default 8 and 16 hosts; others as arguments), side by side in one run with two baselines:
//   floor         iperf3 started directly in each host's namespace, no SSH at all: every server,
//                 then every client, by a serial launch loop on this machine (`ip netns exec`);
//   parallel-ssh  the hand-written mesh: one ssh per host at once starting its servers, then one
//                 per host at once running its clients and printing their JSON.
// Every side runs the same pairs (one iperf3 per ordered pair, TCP, DURATION s), RUNS times in
// turn; each prints its best and median overhead, and the ratios meshperf / floor and
// meshperf / parallel-ssh of the bests. Needs root on Linux, iperf3, ssh and a build.
// Usage: npm run bench:overhead [-- 8 16]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labDown, labUp, pickFreeSubnet } from '../dist/lab/lab.js';
import { describeUnitCosts, leastSeconds, measureUnitCosts } from './least-cost.mjs';
import { labSsh, machineBusySeconds, median, recordRatio } from './record.mjs';

const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 1);
const RUNS = 3;
const DURATION = 2;
const PORT = 5201;
const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;

/** Run a command to its end; resolves with its stdout, rejects on an exit code not in okCodes. */
function sh(cmd, args, okCodes = [0]) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => (okCodes.includes(code) ? resolve(out) : reject(new Error(`${cmd} ${args.slice(0, 6).join(' ')}: exit ${code}: ${err.trim()}`))));
  });
}

/** The mesh's pairs: host i serves peer j on port PORT + j. */
const pairsOf = (hosts) => hosts.flatMap((src, i) => hosts.flatMap((dst, j) => (i === j ? [] : [{ src, dst, port: PORT + i }])));

async function listening(ns, count) {
  for (;;) {
    const tcp = await sh('ip', ['netns', 'exec', ns, 'cat', '/proc/net/tcp']);
    const ports = tcp.split('\n').filter((l) => / 0A /.test(l)).length;
    if (ports >= count) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function floor(lab) {
  const hosts = lab.network.hosts;
  const start = performance.now();
  const servers = [];
  for (const { src, dst, port } of pairsOf(hosts)) servers.push(sh('ip', ['netns', 'exec', dst.namespace, 'iperf3', '-s', '-1', '-B', dst.address, '-p', String(port)]));
  await Promise.all(hosts.map((h) => listening(h.namespace, hosts.length - 1)));
  const clients = [];
  for (const { src, dst, port } of pairsOf(hosts)) clients.push(sh('ip', ['netns', 'exec', src.namespace, 'iperf3', '-c', dst.address, '-B', src.address, '-p', String(port), '-t', String(DURATION), '-J']));
  const docs = await Promise.all(clients);
  await Promise.all(servers);
  const bad = docs.filter((d) => !/"sum_received"/.test(d));
  if (bad.length) throw new Error(`floor: ${bad.length} clients measured nothing: ${bad[0].slice(0, 300)}`);
  return performance.now() - start;
}

async function parallelSsh(lab) {
  const hosts = lab.network.hosts;
  const ssh = (h, script) => sh('ssh', [...labSsh(lab, h.address), script]);
  const pairs = pairsOf(hosts);
  const start = performance.now();
  // Servers: daemonized, one test each; the ssh returns once each has bound its port.
  await Promise.all(
    hosts.map((h) => ssh(h, pairs.filter((p) => p.dst === h).map((p) => `iperf3 -s -1 -D -B ${h.address} -p ${p.port}`).join('; ') + `; while [ $(grep -c ' 0A ' /proc/net/tcp) -lt ${hosts.length - 1} ]; do sleep 0.02; done`)),
  );
  const outs = await Promise.all(
    hosts.map((h) => {
      const mine = pairs.filter((p) => p.src === h);
      const d = `/tmp/meshperf-bench-pssh-${h.name}`;
      return ssh(h, `mkdir -p ${d}; ${mine.map((p, k) => `iperf3 -c ${p.dst.address} -B ${h.address} -p ${p.port} -t ${DURATION} -J > ${d}/${k}.json &`).join(' ')} wait; cat ${d}/*.json; rm -rf ${d}`);
    }),
  );
  if (outs.join('').split('"sum_received"').length - 1 < pairs.length) throw new Error('parallel-ssh: a client measured nothing');
  return performance.now() - start;
}

async function meshperf(lab) {
  const out = mkdtempSync(path.join(os.tmpdir(), 'meshperf-bench-out-'));
  try {
    const start = performance.now();
    await sh(process.execPath, [BIN, '--inventory', lab.inventory, '--duration', String(DURATION), '--processes', '1', '--out', out], [0, 3]); // 3: a pair below its thresholds, still measured
    return performance.now() - start;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const SIDES = { floor, 'parallel-ssh': parallelSsh, meshperf };
for (const n of SIZES.length ? SIZES : [8, 16]) {
  const dir = path.join(os.tmpdir(), `meshperf-bench-overhead-${process.pid}-${n}`);
  const lab = await labUp({ hosts: n, dir, subnet: await pickFreeSubnet() });
  try {
    const over = Object.fromEntries(Object.keys(SIDES).map((k) => [k, []]));
    const cpu = Object.fromEntries(Object.keys(SIDES).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [name, side] of Object.entries(SIDES)) {
        const busy = machineBusySeconds();
        over[name].push((await side(lab)) / 1000 - DURATION);
        cpu[name].push(machineBusySeconds() - busy);
      }
    }
    const best = (k) => Math.min(...over[k]);
    const cores = os.cpus().length;
    console.log(`${n} hosts, ${n * (n - 1)} pairs, ${DURATION} s test, overhead = wall - ${DURATION} s, best (median) of ${RUNS}; the machine's busy CPU-s (median) against its ${cores} cores:`);
    for (const k of Object.keys(SIDES)) console.log(`  ${k.padEnd(13)} ${best(k).toFixed(2)} s (${median(over[k]).toFixed(2)})   [${over[k].map((x) => x.toFixed(2)).join(', ')}]   ${median(cpu[k]).toFixed(1)} CPU-s in ${(median(over[k]) + DURATION).toFixed(1)} s wall`);
    console.log(`  ratio meshperf / floor ${(best('meshperf') / best('floor')).toFixed(2)}x, meshperf / parallel-ssh ${(best('meshperf') / best('parallel-ssh')).toFixed(2)}x`);
    const detail = Object.keys(SIDES).map((k) => `${k} ${best(k).toFixed(2)} s`).join(', ');
    // Issue 11's goals: at 8 hosts at most the floor and 0.4x parallel-ssh; at 16, half the floor.
    recordRatio({ bench: 'overhead', label: `${n} hosts: meshperf / floor`, ratio: best('meshperf') / best('floor'), goal: n >= 16 ? 0.5 : 1, detail });
    recordRatio({ bench: 'overhead', label: `${n} hosts: meshperf / parallel-ssh`, ratio: best('meshperf') / best('parallel-ssh'), goal: n >= 16 ? null : 0.4, detail });
    // What the goal asks for, against the least that SSH, a Node.js daemon per host and the
    // iperf3 processes' own starts cost on these cores (bench/least-cost.mjs): above 1, no run
    // built of those parts can meet it here.
    const costs = measureUnitCosts(lab);
    const least = leastSeconds(costs, { hosts: n, servers: n * (n - 1), clients: n * (n - 1) });
    const asked = n >= 16 ? 0.5 * best('floor') : 0.4 * best('parallel-ssh');
    const what = n >= 16 ? '0.5x the floor' : '0.4x parallel-ssh';
    console.log(`  the goal (${what}) asks for ${asked.toFixed(2)} s of overhead; the least possible here is ${least.toFixed(2)} s (${describeUnitCosts(costs)}): ${(least / asked).toFixed(2)}x the goal`);
    recordRatio({ bench: 'overhead', label: `${n} hosts: least possible overhead / the goal's`, ratio: least / asked, detail: `${least.toFixed(2)} s against ${asked.toFixed(2)} s (${what}); ${describeUnitCosts(costs)}` });
  } finally {
    await labDown(dir);
  }
}
