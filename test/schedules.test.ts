// Schedules against a link of known rate: one host shaped with tc to 200 Mbit/s each way.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { loadInventory, runMesh, type ResultsDocument } from '../lib/index.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

const RATE = 200e6;
const skip = !canRunLab && NO_LAB_REASON;

function pairs(doc: ResultsDocument): { src: string; dst: string; bps: number; rounds: number[] }[] {
  return Object.entries(doc.sources).flatMap(([src, { destinations }]) =>
    Object.entries(destinations).map(([dst, p]) => ({ src, dst, bps: p.summary.throughput_bps, rounds: p.instances.map((i) => i.round) })),
  );
}

t.test('rounds and pairwise measure a shaped host at its rate; all shares it', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.116.0/24');
  // Both directions of each host's link (its own egress, and the bridge's egress towards it):
  // h1 at 200 Mbit/s, the others at 1 Gbit/s, so that no flow is limited by this machine's CPUs.
  lab.network.hosts.forEach((h, i) => {
    const tbf = ['root', 'tbf', 'rate', i === 0 ? '200mbit' : '1gbit', 'burst', '256kb', 'latency', '50ms'];
    execFileSync('ip', ['netns', 'exec', h.namespace, 'tc', 'qdisc', 'add', 'dev', 'eth0', ...tbf]);
    execFileSync('tc', ['qdisc', 'add', 'dev', h.veth, ...tbf]);
  });
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
  t.ok(within(out, RATE), `all: h1's two outgoing pairs share its rate (${(out / 1e6).toFixed(0)} Mbit/s together)`);
  t.ok(within(into, RATE), `all: so do its two incoming pairs (${(into / 1e6).toFixed(0)} Mbit/s together)`);
  t.equal(all.run.rounds.length, 1);
  // Measured apart (rounds) the same two pairs read the full rate each: twice as much together.
  // (How TCP splits the shared rate between them under "all" is its own business: not asserted.)
  const apart = rounds.filter((p) => p.src === 'h1').reduce((a, p) => a + p.bps, 0);
  t.ok(within(apart, 2 * RATE), `rounds: h1's outgoing pairs read ${(apart / 1e6).toFixed(0)} Mbit/s together, each at the full rate`);
  t.same(await leftovers(lab), []);
});
