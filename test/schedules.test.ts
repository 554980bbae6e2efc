// Schedules against a link of known rate: one host shaped with tc to 200 Mbit/s each way.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { loadInventory, runMesh, type ResultsDocument } from '../lib/index.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

const RATE = 200e6;
const skip = !canRunLab && NO_LAB_REASON;

/** Put a bridge namespace with tbf on both its ports between `host` and the lab's bridge. */
function shape(t: Test, labBridge: string, host: { namespace: string; veth: string }, rate: string): void {
  const ns = `${host.namespace}-shp`;
  const up = `${host.veth}u`;
  const run = (...args: string[]) => execFileSync('ip', args);
  run('netns', 'add', ns);
  t.teardown(() => execFileSync('ip', ['netns', 'del', ns]));
  run('link', 'set', host.veth, 'nomaster');
  run('link', 'set', host.veth, 'netns', ns);
  run('link', 'add', up, 'type', 'veth', 'peer', 'name', `${host.veth}b`);
  run('link', 'set', `${host.veth}b`, 'master', labBridge, 'up');
  run('link', 'set', up, 'netns', ns);
  run('-n', ns, 'link', 'add', 'br0', 'type', 'bridge');
  for (const dev of [host.veth, up]) {
    run('-n', ns, 'link', 'set', dev, 'master', 'br0', 'up');
    execFileSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', '1mb', 'latency', '50ms']);
  }
  run('-n', ns, 'link', 'set', 'br0', 'up');
}

function pairs(doc: ResultsDocument): { src: string; dst: string; bps: number; rounds: number[] }[] {
  return Object.entries(doc.sources).flatMap(([src, { destinations }]) =>
    Object.entries(destinations).map(([dst, p]) => ({ src, dst, bps: p.summary.throughput_bps, rounds: p.instances.map((i) => i.round) })),
  );
}

t.test('rounds and pairwise measure a shaped host at its rate; all shares it', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.116.0/24');
  // Each host's link gets a rate both ways: h1 200 Mbit/s, the others 1 Gbit/s (so that no flow is
  // limited by this machine's CPUs). The shaper is a switch of its own between the host and the
  // lab's bridge, so that it drops forwarded packets, as a real bottleneck does. (A shaper on the
  // host's own interface drops its TCP's packets locally, and its flows then collapsed at times.)
  for (const [i, h] of lab.network.hosts.entries()) shape(t, lab.network.bridge, h, i === 0 ? '200mbit' : '1gbit');
  const inventory = await loadInventory(lab.inventory);
  const within = (v: number, want: number) => Math.abs(v - want) / want <= 0.1;

  for (const schedule of ['rounds', 'pairwise'] as const) {
    const doc = await runMesh({ inventory, test: { duration: 3, omit: 1, processes: 1, schedule } });
    t.equal(schemaErrors(doc), '', `${schedule}: valid results`);
    t.equal(doc.run.parameters.schedule, schedule);
    t.equal(doc.run.rounds.length, schedule === 'rounds' ? 2 : 6, `${schedule}: ${doc.run.rounds.length} rounds`);
    for (const p of pairs(doc)) {
      const label = `${schedule}: ${p.src} -> ${p.dst} read ${(p.bps / 1e6).toFixed(0)} Mbit/s`;
      if (p.src === 'h1' || p.dst === 'h1') t.ok(within(p.bps, RATE), `${label}, the shaped rate within 10 %`);
      else t.ok(p.bps > 4 * RATE, `${label}, far above it`);
    }
    const roundsOfPairs = pairs(doc).map((p) => p.rounds[0]);
    t.equal(new Set(roundsOfPairs).size, doc.run.rounds.length, 'each instance records its round');
  }

  const rounds = pairs(await runMesh({ inventory, test: { duration: 3, omit: 1, processes: 1, schedule: 'rounds' } }));
  const all = await runMesh({ inventory, test: { duration: 3, omit: 1, processes: 1, schedule: 'all' } });
  const out = pairs(all).filter((p) => p.src === 'h1').reduce((a, p) => a + p.bps, 0);
  const into = pairs(all).filter((p) => p.dst === 'h1').reduce((a, p) => a + p.bps, 0);
  // Under "all" h1's pairs share its rate: neither direction gets more than the rate, though each
  // pair alone gets all of it. How the rate splits is the link's business: with data both ways
  // through one drop-tail queue, the ACKs of one direction wait behind the other's data, and one
  // direction often gets far less (seen: 26-37 Mbit/s). That is what meshperf must report, not hide.
  t.ok(out <= 1.1 * RATE, `all: h1's two outgoing pairs share its rate (${(out / 1e6).toFixed(0)} Mbit/s together)`);
  t.ok(into <= 1.1 * RATE, `all: so do its two incoming pairs (${(into / 1e6).toFixed(0)} Mbit/s together)`);
  t.ok(Math.max(out, into) >= 0.9 * RATE, 'and the link is full in at least one direction');
  t.equal(all.run.rounds.length, 1);
  // Measured apart (rounds) the same two pairs read the full rate each: twice as much together.
  // (How TCP splits the shared rate between them under "all" is its own business: not asserted.)
  const apart = rounds.filter((p) => p.src === 'h1').reduce((a, p) => a + p.bps, 0);
  t.ok(within(apart, 2 * RATE), `rounds: h1's outgoing pairs read ${(apart / 1e6).toFixed(0)} Mbit/s together, each at the full rate`);
  t.same(await leftovers(lab), []);
});
