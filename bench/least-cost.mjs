// What the parts every meshperf run is made of cost on this machine, measured on a lab host: a
// Node.js start (the controller and each host's daemon run in one), an SSH login on the host's
// side (sshd and its session; the controller's own SSH client not counted), an iperf3 server from
// its start to listening, and an iperf3 start and exit. From them, the least CPU any run built of
// those parts needs, and so, on this machine's cores, the least wall time it can take: what a goal
// is held against before anyone tries to meet it. Used by overhead.mjs and check.mjs.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { labSsh, machineBusySeconds, median } from './record.mjs';

const TIMES = 10;

/** The machine's busy CPU-s per item of `batch()`, which does `items` of them: the median of 3 batches. */
function perItem(batch, items) {
  return median([0, 1, 2].map(() => {
    const busy = machineBusySeconds();
    batch();
    return (machineBusySeconds() - busy) / items;
  }));
}

/** One run of `command`, from a shell that runs it TIMES times (so no Node.js spawn is counted). */
const eachRun = (command) => perItem(() => run('sh', ['-c', `for i in ${'x '.repeat(TIMES)}; do ${command} >/dev/null 2>&1; done`]), TIMES);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** CPU-s of one ssh client alone (GNU time), to take out of a whole login's. */
function sshClientCpu(lab, address) {
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', 'ssh', ...labSsh(lab, address), 'true'], { encoding: 'utf8' });
  const [user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return user + sys;
}

/** Start `count` iperf3 servers in one namespace from one shell (no Node), wait until all listen, stop them. */
function serversOnce(host, count) {
  const ports = Array.from({ length: count }, (_, i) => 6201 + i);
  const script = `for p in ${ports.join(' ')}; do iperf3 -s -1 -D -B ${host.address} -p $p; done; ` + `while [ $(grep -c ' 0A ' /proc/net/tcp) -lt ${count} ]; do sleep 0.005; done; pkill -x iperf3; true`;
  run('ip', ['netns', 'exec', host.namespace, 'sh', '-c', script]);
}

/** Unit costs in CPU-s, measured on the lab's first host. */
export function measureUnitCosts(lab) {
  const h = lab.network.hosts[0];
  const node = eachRun(`${process.execPath} -e 0`);
  const login = eachRun(`ssh ${labSsh(lab, h.address).join(' ')} true`);
  const client = median([0, 1, 2].map(() => sshClientCpu(lab, h.address)));
  // 20 servers at a time, so the loop's own shell and waits weigh little on each.
  const server = perItem(() => serversOnce(h, 20), 20);
  // The least an iperf3 client costs: its binary's start and exit (`--version`); it also sends.
  const start = eachRun('iperf3 --version');
  return { node, sshd: Math.max(0, login - client), server, start, cores: os.cpus().length };
}

/**
 * The least wall time, in s, on these cores, of the controller's Node.js start, `hosts` daemons
 * booted over SSH, `servers` iperf3 servers and `clients` iperf3 clients (their start alone).
 */
export function leastSeconds(f, { hosts, servers = 0, clients = 0 }) {
  return (f.node + hosts * (f.node + f.sshd) + servers * f.server + clients * f.start) / f.cores;
}

export const describeUnitCosts = (f) =>
  `CPU each: a Node.js start ${ms(f.node)}, an sshd login ${ms(f.sshd)}, an iperf3 server to listening ${ms(f.server)}, an iperf3 start and exit ${ms(f.start)}; ${f.cores} cores`;

const ms = (s) => `${(s * 1000).toFixed(0)} ms`;
