// Host names as a user writes them for report's --src/--dst: globs and the inventory's ranges.
import t from 'tap';
import { hostPattern } from '../lib/inventory/host-pattern.js';

const names = ['h1', 'h2', 'h3', 'h4', 'h34', 'node001', 'node009', 'node010', 'node011', 'db-a', 'db-b', 'db-c', 'x.y'];
const matches = (pattern: string) => {
  const m = hostPattern(pattern);
  if (typeof m === 'string') throw new Error(m);
  return names.filter(m);
};

t.test('globs and ranges select the hosts people mean', async (t) => {
  t.same(matches('h[34]'), ['h3', 'h4'], 'a class of characters, as in a shell');
  t.same(matches('h[3-4]'), ['h3', 'h4'], 'a range, either way');
  t.same(matches('h[1-2,4]'), ['h1', 'h2', 'h4'], 'a pdsh list');
  t.same(matches('node[001-010]'), ['node001', 'node009', 'node010'], 'zero-padded as written, as the inventory expands it');
  t.same(matches('node[9-11]'), [], 'not padded: node9..node11, which are not there');
  t.same(matches('db-[a-c]'), ['db-a', 'db-b', 'db-c'], 'a class of letters');
  t.same(matches('db-[!a]'), ['db-b', 'db-c'], 'a negated class');
  t.same(matches('h?'), ['h1', 'h2', 'h3', 'h4'], '?');
  t.same(matches('*'), names, '*');
  t.same(matches('x.y'), ['x.y'], 'a dot is a dot');
  t.same(matches('x?y'), ['x.y'], '');
  t.same(matches('h3'), ['h3'], 'a plain name is itself, not a prefix');
});

t.test('a pattern that cannot be read says why', async (t) => {
  for (const [p, why] of [
    ['h[3', /a \[ without its \]/],
    ['h[]', /empty \[\] matches nothing/],
    ['h[9-1]', /inverted/],
    ['h[!]', /nothing to match/],
  ] as const) {
    const m = hostPattern(p);
    t.type(m, 'string', p);
    t.match(m, why, p);
  }
});
