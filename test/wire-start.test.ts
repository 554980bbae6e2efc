// The mesh simultaneous in truth, checked on the wire: tcpdump on the lab's bridge takes each
// test's first data stream (the SYN after its control connection; UDP: the datagram that opens
// its data stream), and the spread of those real starts is held against its bound and against
// what the results say (run.rounds[].start_spread_ms, each instance's started_at).
import t, { type Test } from 'tap';
import { loadInventory, runMesh, type ResultsDocument, type TestParams } from '../lib/index.js';
import { captureStarts, wireSpread, type WireStart } from '../lib/lab/wire.js';
import { canRunLab, NO_LAB_REASON, withLab } from './helpers/lab.js';
import type { LabState } from '../lib/lab/lab.js';

const PORTS: [number, number] = [5201, 5999];

/** One mesh under tcpdump: its results and what the wire saw. */
async function meshOnTheWire(lab: LabState, test: Partial<TestParams>): Promise<{ doc: ResultsDocument; wire: WireStart[] }> {
  const inventory = await loadInventory(lab.inventory);
  const capture = await captureStarts(lab.network.bridge, PORTS);
  const [run] = await Promise.allSettled([runMesh({ inventory, test: { duration: 2, processes: 1, port_range: PORTS, ...test } })]);
  // tcpdump is stopped whatever the run did.
  const wire = await capture.stop();
  if (run.status === 'rejected') throw run.reason;
  return { doc: run.value, wire };
}

const instancesOf = (doc: ResultsDocument) => Object.values(doc.sources).flatMap((s) => Object.values(s.destinations)).flatMap((p) => p.instances);

/** The results' spread against the wire's: within 10 % or 5 ms, whichever is more. */
function agrees(t: Test, doc: ResultsDocument, wire: WireStart[], tests: number, bound: number, what: string): void {
  const s = doc.summary;
  t.equal(s.instances_ok, s.instances, `${what}: every instance measured (${s.instances_ok}/${s.instances})`);
  t.equal(wire.length, tests, `${what}: the wire saw the data start of all ${tests} tests`);
  const spread = wireSpread(wire);
  const ours = doc.run.rounds[0]!.start_spread_ms!;
  t.comment(`${what}: wire spread ${spread.toFixed(1)} ms, start_spread_ms ${ours}, release_spread_ms ${doc.run.rounds[0]!.release_spread_ms}, window ${JSON.stringify(doc.run.rounds[0]!.window)}`);
  t.ok(spread <= bound, `${what}: the real starts on the wire span ${spread.toFixed(1)} ms (bound ${bound})`);
  t.ok(Math.abs(ours - spread) <= Math.max(5, 0.1 * spread), `${what}: start_spread_ms ${ours} is within 10 % or 5 ms of the wire's ${spread.toFixed(1)}`);
  // Each instance's own start against its test's on the wire (same clock in the lab).
  const byTest = new Map(wire.map((w) => [`${w.client} ${w.server} ${w.port}`, w.at]));
  const off = instancesOf(doc).map((i) => Math.abs(Date.parse(i.started_at!) - byTest.get(`${i.client!.address} ${i.server!.address} ${i.server!.port}`)!));
  const worst = Math.max(...off);
  t.ok(worst <= Math.max(10, 0.1 * spread), `${what}: every instance's started_at is within ${worst.toFixed(1)} ms of its test's data start on the wire`);
  t.ok(instancesOf(doc).every((i) => i.in_window !== null && i.in_window > 0.5), `${what}: every instance ran mostly inside the round's common window`);
}

t.test('8 hosts on the wire: TCP, UDP at 100M, -R, and 3 processes of -P 2, each starting within 100 ms, as the results say', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 8, '198.19.131.0/24');
  for (const [what, test, tests] of [
    ['TCP', {}, 56],
    ['UDP -b 100M', { protocol: 'udp', bitrate: '100M' }, 56],
    ['-R', { reverse: true }, 56],
    ['--processes 3 -P 2', { processes: 3, parallel: 2 }, 168],
  ] as const) {
    const { doc, wire } = await meshOnTheWire(lab, test as Partial<TestParams>);
    agrees(t, doc, wire, tests, 100, what);
    t.same(doc.run.warnings.filter((w) => /not simultaneous/.test(w)), [], `${what}: no round called out as not simultaneous`);
  }
});

t.test('24 hosts on the wire: 552 tests starting within 2 s, as the results say', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 24, '198.19.132.0/24');
  const { doc, wire } = await meshOnTheWire(lab, {});
  agrees(t, doc, wire, 552, 2000, '24 hosts');
});
