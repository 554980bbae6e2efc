// The knee search on its own (lib/mesh/knee.ts): pairs whose links carry 50M, 300M and more than
// anything tried, each losing 10 % above that and nothing below. The real mesh's knee is
// test/campaign.test.ts's, against a link tc shapes.
import t from 'tap';
import { KNEE_MAX_BPS, KNEE_MAX_STEPS, KNEE_PRECISION, KneeSearch, type KneeStep } from '../lib/mesh/knee.js';
import type { ResultsDocument } from '../lib/results/types.js';

const CAPACITY: Record<string, number> = { 'a>b': 300e6, 'b>a': 50e6, 'a>c': Infinity };

function measured(step: KneeStep): ResultsDocument {
  const sources: Record<string, { destinations: Record<string, unknown> }> = {};
  for (const key of Object.keys(CAPACITY)) {
    const [src, dst] = key.split('>') as [string, string];
    const lost = step.rateOf(key) > CAPACITY[key]! ? 10 : 0;
    (sources[src] ??= { destinations: {} }).destinations[dst] = { summary: { status: 'ok', lost_percent: lost } };
  }
  return { sources } as unknown as ResultsDocument;
}

t.test('doubling, then bisection, pair by pair, to within the precision', async (t) => {
  const search = new KneeSearch(1);
  const rates: Record<string, number>[] = [];
  for (let step = search.next(); step; step = search.next()) {
    rates.push(Object.fromEntries(Object.keys(CAPACITY).map((k) => [k, step!.rateOf(k)])));
    search.record(measured(step), step);
  }
  t.ok(rates.length <= KNEE_MAX_STEPS, `${rates.length} steps`);
  const knees = search.knees();
  const within = (got: number | null, want: number) => got !== null && got <= want && got >= want / (1 + KNEE_PRECISION) ** 2;
  t.ok(within(knees.get('a>b')!, 300e6), `a>b: ${knees.get('a>b')} for 300M`);
  t.ok(within(knees.get('b>a')!, 50e6), `b>a: ${knees.get('b>a')} for 50M, below where the search starts`);
  t.equal(knees.get('a>c'), KNEE_MAX_BPS, 'a>c: at the highest rate tried');
  t.ok(rates.every((r) => r['a>b']! <= 400e6), 'a pair past its knee never ran above its first bad rate');
});
