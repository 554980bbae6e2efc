// UDP and the iperf3 options, on a real lab: each flag reaches iperf3 (its argv and its own JSON
// say so), is recorded in the results, and the numbers come out as set.
import t from 'tap';
import { loadInventory, runMesh, type MeshEvent } from '../lib/index.js';
import { namespacePids } from '../lib/lab/network.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { isIperf, processes } from './helpers/procs.js';
import { schemaErrors } from './helpers/schema.js';

const skip = !canRunLab && NO_LAB_REASON;

t.test('a UDP mesh at a set bitrate reads that bitrate, with jitter and loss recorded', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.117.0/24');
  const inventory = await loadInventory(lab.inventory);
  // h3 sends at its own rate: a per-host override of [test].
  inventory.hosts[2]!.test = { bitrate: 20e6 };
  const doc = await runMesh({ inventory, test: { duration: 3, processes: 1, protocol: 'udp', bitrate: 50e6 } });
  t.equal(schemaErrors(doc), '');
  t.equal(doc.run.parameters.protocol, 'udp');
  t.equal(doc.summary.pairs_ok, 6);
  for (const [src, { destinations }] of Object.entries(doc.sources)) {
    for (const [dst, p] of Object.entries(destinations)) {
      const want = src === 'h3' ? 20e6 : 50e6;
      const i = p.instances[0]!;
      t.ok(Math.abs(p.summary.throughput_bps - want) / want <= 0.1, `${src} -> ${dst}: ${(p.summary.throughput_bps / 1e6).toFixed(1)} Mbit/s, set ${want / 1e6}`);
      t.equal(i.parameters.bitrate, want, 'the instance records the bitrate it ran with');
      t.equal(i.parameters.protocol, 'udp');
      t.type(i.metrics.jitter_ms, 'number', 'jitter recorded');
      t.type(i.metrics.lost_percent, 'number', 'loss recorded');
      t.type(i.metrics.lost_packets, 'number');
      t.type(i.metrics.out_of_order, 'number');
      t.equal(i.metrics.retransmits, null, 'no TCP retransmits for UDP');
      t.equal((i.iperf3 as any).intervals.length, 3, 'per-interval data is kept: one per second');
    }
  }
  t.same(await leftovers(lab), []);
});

t.test('TCP options reach iperf3 and are recorded', { skip }, async (t) => {
  const lab = await withLab(t, 2, '198.19.118.0/24');
  const inventory = await loadInventory(lab.inventory);
  const argvs: string[] = [];
  const doc = await runMesh({
    inventory,
    test: { duration: 2, processes: 1, reverse: true, window: 262144, mss: 1200, congestion: 'reno', omit: 1, dscp: 10, no_delay: true, zerocopy: true },
    onEvent: async (e: MeshEvent) => {
      if (e.type !== 'clients-started') return;
      const pids = await namespacePids(lab.network.hosts[0]!.namespace);
      for (const p of processes()) if (pids.includes(p.pid) && isIperf(p) && p.cmdline.includes(' -c ')) argvs.push(p.cmdline);
    },
  });
  t.equal(doc.summary.pairs_ok, 2, doc.summary.pairs_ok === 2 ? 'both directions measured' : JSON.stringify(doc.sources.h1.destinations.h2.summary.error));
  t.ok(argvs.length > 0, 'saw a client running');
  for (const flag of ['-R', '-w 262144', '-M 1200', '-C reno', '-O 1', '--dscp 10', '-N', '-Z']) {
    t.ok(argvs.some((a) => a.includes(` ${flag}`)), `iperf3 ran with ${flag}`);
  }
  const i = doc.sources.h2!.destinations.h1!.instances[0]!;
  t.same(
    { reverse: i.parameters.reverse, window: i.parameters.window, mss: i.parameters.mss, congestion: i.parameters.congestion, omit: i.parameters.omit, dscp: i.parameters.dscp },
    { reverse: true, window: 262144, mss: 1200, congestion: 'reno', omit: 1, dscp: 10 },
    'the instance records its options',
  );
  t.equal(i.client!.host, 'h1', 'with reverse, data h2 -> h1 is measured by a client on h1');
  t.type(i.metrics.retransmits, 'number', 'TCP records retransmits');
  t.equal(i.server!.host, 'h2');
  const start = (i.iperf3 as any).start.test_start;
  t.equal(start.reverse, 1, "iperf3's own record: reverse");
  t.equal(start.omit, 1, 'omit');
  t.equal(start.tos, 40, 'DSCP 10 is TOS byte 40');
  t.equal(doc.run.parameters.window, 262144);
  t.same(await leftovers(lab), []);
});

t.test('bidir measures both directions in one test per pair', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.119.0/24');
  const doc = await runMesh({ inventory: await loadInventory(lab.inventory), test: { duration: 2, processes: 1, bidir: true } });
  t.equal(doc.summary.pairs_ok, 6, 'all six directions have a result');
  const ab = doc.sources.h1!.destinations.h2!.instances[0]!;
  const ba = doc.sources.h2!.destinations.h1!.instances[0]!;
  t.equal(ab.bidir_of, null, 'h1 -> h2 ran the test');
  t.equal(ba.bidir_of, 'h1>h2#0', 'h2 -> h1 is its reverse direction');
  t.equal(ba.client!.pid, ab.client!.pid, 'the same iperf3 process');
  t.ok(ba.metrics.throughput_bps! > 1e6 && ab.metrics.throughput_bps! > 1e6);
  t.ok(ab.metrics.rtt_mean_us! > 0 && ab.metrics.rtt_min_us! <= ab.metrics.rtt_max_us!, `TCP RTT recorded (mean ${ab.metrics.rtt_mean_us} µs)`);
  t.not(ba.metrics.throughput_bps, ab.metrics.throughput_bps, 'each direction has its own number');
  t.equal(schemaErrors(doc), '');
});
