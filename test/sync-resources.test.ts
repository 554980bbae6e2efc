// Synchronized start, CPU pinning within each host's limits, and health, on a real 4-host lab.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { loadInventory, runMesh } from '../lib/index.js';
import { namespacePids } from '../lib/lab/network.js';
import { IPERF3_NICENESS } from '../lib/daemon/instances.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { isDaemon, isIperf, processes } from './helpers/procs.js';
import { schemaErrors } from './helpers/schema.js';

const skip = !canRunLab && NO_LAB_REASON;

t.test('clients start together, each iperf3 is pinned where the results say, limits hold, health is recorded', { skip }, async (t) => {
  const lab = await withLab(t, 4, '198.19.120.0/24');
  const inventory = await loadInventory(lab.inventory);
  inventory.hosts[1]!.cpus = [1]; // h2 may use core 1 only
  inventory.hosts[3]!.max_processes = 4; // h4 cannot run 2·2·(N−1) processes
  const affinity = new Map<number, string>();
  // Niceness from the process table (field 19 of /proc/<pid>/stat), of every iperf3 and daemon.
  const niceness = new Map<number, number>();
  const niceOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]);
  let sampled = false;
  const doc = await runMesh({
    inventory,
    test: { duration: 3, processes: 2 },
    onEvent: async (e) => {
      if (e.type !== 'test-running' || e.elapsed_s < 1 || sampled) return;
      sampled = true;
      // While the test runs: every iperf3's CPU affinity, read from /proc.
      for (const h of lab.network.hosts) {
        const pids = await namespacePids(h.namespace);
        for (const p of processes()) {
          if (pids.includes(p.pid) && isDaemon(p)) niceness.set(p.pid, niceOf(p.pid));
          if (!pids.includes(p.pid) || !isIperf(p)) continue;
          niceness.set(p.pid, niceOf(p.pid));
          affinity.set(p.pid, /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))![1]!);
        }
      }
    },
  });
  t.equal(schemaErrors(doc), '');
  const h4 = doc.run.hosts.find((h) => h.name === 'h4')!;
  t.equal(h4.error?.code, 'max_processes', 'a host whose limit is below the plan is refused');
  t.match(h4.error?.message, /needs 12 iperf3 processes at once .* above its max_processes 4/);
  t.equal(doc.summary.pairs_ok, 6, 'h1, h2, h3 measured');

  // Synchronized start: the servers' wakes, and the tests' real starts (held against the wire in wire-start.test.ts).
  const r = doc.run.rounds[0]!;
  t.ok(r.release_spread_ms !== null && r.release_spread_ms <= 20, `servers woken within ${r.release_spread_ms} ms of each other (bound 20)`);
  t.ok(doc.summary.start_spread_ms !== null && doc.summary.start_spread_ms <= 200, `the tests began within ${doc.summary.start_spread_ms} ms (bound 200)`);
  t.equal(doc.run.rounds[0]!.start_spread_ms, doc.summary.start_spread_ms);

  // The daemon outranks its iperf3s: each runs IPERF3_NICENESS nicer than its host's daemon.
  const daemons = new Map(doc.run.hosts.filter((h) => h.pid !== undefined).map((h) => [h.name, h.pid!]));
  let niced = 0;
  for (const i of Object.values(doc.sources).flatMap((s) => Object.values(s.destinations)).flatMap((p) => p.instances)) {
    for (const end of [i.client!, i.server!]) {
      const seen = niceness.get(end.pid!);
      const daemon = niceness.get(daemons.get(end.host)!);
      if (seen === undefined || daemon === undefined) continue;
      niced++;
      if (seen !== daemon + IPERF3_NICENESS) t.fail(`${end.host} iperf3 ${end.pid} at niceness ${seen}, its daemon at ${daemon}`);
    }
  }
  t.ok(niced >= 12, `${niced} iperf3 seen in the process table, each ${IPERF3_NICENESS} nicer than its daemon`);

  // Pinning.
  const ok = Object.values(doc.sources).flatMap((s) => Object.values(s.destinations)).flatMap((p) => p.instances);
  t.equal(ok.length, 12);
  let checked = 0;
  const coresOf = new Map<string, Set<number>>();
  for (const i of ok) {
    for (const end of [i.client!, i.server!]) {
      const seen = affinity.get(end.pid!);
      t.equal(seen, String(end.cpu), `${end.host} iperf3 ${end.pid} ran pinned to cpu ${end.cpu}, as recorded`);
      checked += seen === undefined ? 0 : 1;
      coresOf.set(end.host, (coresOf.get(end.host) ?? new Set()).add(end.cpu!));
    }
    t.type(i.clock_offset_ms, 'number');
    t.ok(Math.abs(i.clock_offset_ms!) < 50, 'one machine: offsets near zero');
    t.match(i.scheduled_at, /Z$/);
  }
  t.equal(checked, 24, 'every client and server was seen running');
  t.same([...coresOf.get('h2')!], [1], 'h2 used only the core it was allowed');
  t.same([...coresOf.get('h1')!].sort(), [0, 1], 'h1 spread its processes over both cores');

  // Health and RPC latency.
  for (const h of doc.run.hosts.filter((x) => x.status === 'ok')) {
    t.ok(h.health!.length >= 1, `${h.name}: ${h.health!.length} health samples`);
    t.ok(h.health!.some((s) => s.active === 8), `${h.name}: 8 iperf3 processes active during the test`);
    t.ok(h.rpc_latency_ms!.count >= 1 && h.rpc_latency_ms!.mean_ms > 0, `${h.name}: RPC latency ${h.rpc_latency_ms!.mean_ms} ms`);
  }
  t.equal(doc.summary.instance_success_rate, 1);
  t.equal(doc.summary.host_failure_rate, 0.25);
  t.same(await leftovers(lab), []);
});
