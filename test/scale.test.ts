// A 24-host all-at-once mesh on the emulated cluster: 552 pairs, 1,104 iperf3 processes on this
// machine's cores. Every daemon must stay responsive while it starts its processes, every pair
// must be measured, every host's servers must be woken together, and nothing may be left running.
// (When the tests really began is held against the wire in wire-start.test.ts.)
import t from 'tap';
import { loadInventory, runMesh } from '../lib/index.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { eventually, isIperf } from './helpers/procs.js';

t.test('24 hosts, every pair at once: all 552 measured, servers woken within 2 s of each other, nothing left', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 24, '198.19.124.0/24');
  const inventory = await loadInventory(lab.inventory);
  const doc = await runMesh({ inventory, test: { duration: 2, processes: 1 } });
  const s = doc.summary;
  t.same(doc.run.hosts.filter((h) => h.status !== 'ok').map((h) => `${h.name}: ${h.error?.code} ${h.error?.message}`), [], 'no host failed or was lost');
  t.equal(s.pairs, 552);
  const failed = Object.entries(doc.sources).flatMap(([src, { destinations }]) =>
    Object.entries(destinations).filter(([, p]) => p.summary.status !== 'ok').map(([dst, p]) => `${src}>${dst}: ${p.summary.error?.code} ${p.summary.error?.message}`),
  );
  t.same(failed, [], 'every ordered pair measured');
  t.equal(s.pairs_ok, 552);
  const r = doc.run.rounds[0]!;
  t.ok(r.release_spread_ms !== null && r.release_spread_ms <= 2000, `the servers of all 24 hosts were woken within ${r.release_spread_ms} ms (bound 2000); the tests began over ${r.start_spread_ms} ms`);
  t.comment(`timings ${JSON.stringify(doc.run.timings)}`);
  t.ok(
    await eventually(async () => (await leftovers(lab)).length === 0, 5000),
    'no iperf3 or daemon left on any host within 5 s',
  );
});

t.test('24 hosts interrupted mid-test: nothing left on any host within 10 s, what ran is kept', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 24, '198.19.126.0/24');
  const inventory = await loadInventory(lab.inventory);
  const abort = new AbortController();
  let started = 0;
  let abortedAt = 0;
  const running = runMesh({
    inventory,
    test: { duration: 30, processes: 1 },
    signal: abort.signal,
    onEvent: (e) => {
      if (e.type === 'host-failed') t.comment(`${e.host}: ${e.error.code} ${e.error.message}`);
      if (e.type !== 'clients-started' || ++started < 24) return;
      // Every host's clients run: interrupt a second later.
      setTimeout(() => {
        abortedAt = Date.now();
        abort.abort();
      }, 1000);
    },
  });
  // The promise to a user (docs/operations.md): within 10 s of a Ctrl-C nothing of the run is
  // left on any host, iperf3 or daemon: each host is let go once what ran on it is collected.
  let iperfGoneAfter = -1;
  const stopped = await eventually(async () => {
    if (!abortedAt) return false;
    const left = await leftovers(lab);
    if (iperfGoneAfter < 0 && !left.some(isIperf)) iperfGoneAfter = Date.now() - abortedAt;
    return left.length === 0;
  }, 60_000);
  const goneAfter = Date.now() - abortedAt;
  t.ok(stopped && goneAfter <= 10_000, `no iperf3 (${iperfGoneAfter} ms) and no daemon (${goneAfter} ms) left on any host after the interrupt (bound 10000)`);
  const doc = await running;
  t.comment(`the run returned ${Date.now() - abortedAt} ms after the interrupt; clients-started events: ${started}; timings ${JSON.stringify(doc.run.timings)}`);
  t.equal(doc.run.interrupted, true);
  t.equal(doc.summary.pairs_interrupted + doc.summary.pairs_ok, 552, 'every pair kept what it measured');
});

t.test('24 hosts behind one bastion, SSH on management, the mesh on a rail: all 552 measured through one jump connection', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 24, '198.19.176.0/24', { rails: 2, bastion: true });
  const inventory = await loadInventory(lab.inventory);
  const connectStart = Date.now();
  let connected = 0;
  const doc = await runMesh({
    inventory,
    test: { duration: 2, processes: 1 },
    planes: ['rail2'],
    onEvent: (e) => {
      if (e.type === 'servers-listening' && !connected) connected = Date.now() - connectStart;
    },
  });
  t.same(doc.run.hosts.filter((h) => h.status !== 'ok').map((h) => `${h.name}: ${h.error?.code} ${h.error?.message}`), [], 'no host failed or was lost');
  t.equal(doc.summary.pairs_ok, 552, 'every ordered pair measured on rail2');
  t.ok(doc.run.hosts.every((h) => h.ssh?.jump.length === 1 && h.interfaces?.[0]?.name === 'eth2'), 'all through the bastion, all tested on eth2');
  t.comment(`24 hosts connected through the bastion and their servers listening after ${connected} ms`);
  t.ok(await eventually(async () => (await leftovers(lab)).length === 0, 5000), 'nothing left on any host');
});
