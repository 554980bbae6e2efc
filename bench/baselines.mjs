// The two baselines a lab mesh is measured against, shared by bench:overhead and bench:spread:
//   floor         iperf3 started directly in each host's namespace, no SSH at all: every server,
//                 then every client, by a serial launch loop on this machine (`ip netns exec`);
//   parallel-ssh  the hand-written mesh: one ssh per host at once starting its servers, then one
//                 per host at once running its clients and printing their JSON;
//   one-signal    meshperf's start mechanism at its best, with nothing of meshperf: every server of
//                 the lab in one process group, held stopped once listening; every client started
//                 and connected; then one SIGCONT to the group, from this process. Its spread is
//                 what iperf3's own work after the wake (accept, parameters, stream buffers) costs
//                 on this machine's cores: the floor of any start that leaves iperf3 unchanged.
// Both run one iperf3 per ordered pair, TCP, duration s, host i serving on port PORT + i.
import { spawn } from 'node:child_process';
import { labSsh } from './record.mjs';

export const PORT = 5201;

/** Run a command to its end; resolves with its stdout, rejects on an exit code not in okCodes. */
export function sh(cmd, args, okCodes = [0]) {
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

/** Connections in state `state` (hex, as /proc/net/tcp writes it) in a namespace. */
async function sockets(ns, state) {
  const tcp = await sh('ip', ['netns', 'exec', ns, 'cat', '/proc/net/tcp']);
  return tcp.split('\n').filter((l) => l.trim().split(/\s+/)[3] === state).length;
}

async function listening(ns, count) {
  while ((await sockets(ns, '0A')) < count) await new Promise((r) => setTimeout(r, 20));
}

export async function floor(lab, duration) {
  const hosts = lab.network.hosts;
  const start = performance.now();
  const servers = [];
  for (const { src, dst, port } of pairsOf(hosts)) servers.push(sh('ip', ['netns', 'exec', dst.namespace, 'iperf3', '-s', '-1', '-B', dst.address, '-p', String(port)]));
  await Promise.all(hosts.map((h) => listening(h.namespace, hosts.length - 1)));
  const clients = [];
  for (const { src, dst, port } of pairsOf(hosts)) clients.push(sh('ip', ['netns', 'exec', src.namespace, 'iperf3', '-c', dst.address, '-B', src.address, '-p', String(port), '-t', String(duration), '-J']));
  const docs = await Promise.all(clients);
  await Promise.all(servers);
  const bad = docs.filter((d) => !/"sum_received"/.test(d));
  if (bad.length) throw new Error(`floor: ${bad.length} clients measured nothing: ${bad[0].slice(0, 300)}`);
  return performance.now() - start;
}

export async function oneSignal(lab, duration) {
  const hosts = lab.network.hosts;
  const pairs = pairsOf(hosts);
  const start = performance.now();
  // One shell, its own process group, backgrounding every server: they all share its group.
  const script = pairs.map(({ dst, port }) => `ip netns exec ${dst.namespace} iperf3 -s -1 -B ${dst.address} -p ${port} >/dev/null 2>&1 &`).join('\n');
  const group = spawn('sh', ['-c', `${script}\nwait`], { stdio: 'ignore', detached: true });
  const ended = new Promise((r) => group.on('close', r));
  try {
    await Promise.all(hosts.map((h) => listening(h.namespace, hosts.length - 1)));
    process.kill(-group.pid, 'SIGSTOP');
    const clients = pairs.map(({ src, dst, port }) => sh('ip', ['netns', 'exec', src.namespace, 'iperf3', '-c', dst.address, '-B', src.address, '-p', String(port), '-t', String(duration), '-J']));
    // Each client's control connection is up (the stopped server's kernel completes it).
    for (;;) {
      const up = await Promise.all(hosts.map((h) => sockets(h.namespace, '01')));
      if (up.reduce((a, b) => a + b, 0) >= 2 * pairs.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(-group.pid, 'SIGCONT');
    const docs = await Promise.all(clients);
    const bad = docs.filter((d) => !/"sum_received"/.test(d));
    if (bad.length) throw new Error(`one-signal: ${bad.length} clients measured nothing: ${bad[0].slice(0, 300)}`);
  } finally {
    try {
      process.kill(-group.pid, 'SIGCONT');
      process.kill(-group.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await ended;
  }
  return performance.now() - start;
}

export async function parallelSsh(lab, duration) {
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
      return ssh(h, `mkdir -p ${d}; ${mine.map((p, k) => `iperf3 -c ${p.dst.address} -B ${h.address} -p ${p.port} -t ${duration} -J > ${d}/${k}.json &`).join(' ')} wait; cat ${d}/*.json; rm -rf ${d}`);
    }),
  );
  if (outs.join('').split('"sum_received"').length - 1 < pairs.length) throw new Error('parallel-ssh: a client measured nothing');
  return performance.now() - start;
}

