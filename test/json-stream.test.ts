// iperf3 --json-stream output read as it arrives, in chunks cut anywhere.
import t from 'tap';
import { JsonStream } from '../lib/daemon/json-stream.js';

const lines = [
  { event: 'start', data: { version: 'iperf 3.18', host: 'hôte' } },
  { event: 'interval', data: { sum: { end: 1, bits_per_second: 1e9 } } },
  { event: 'interval', data: { sum: { end: 2, bits_per_second: 2e9 } } },
  { event: 'end', data: { sum_received: { bits_per_second: 1.5e9 } } },
].map((l) => JSON.stringify(l));

t.test('chunks cut inside lines and inside a UTF-8 character, the last line unterminated', async (t) => {
  const seen: unknown[] = [];
  const s = new JsonStream((d) => seen.push(d));
  const bytes = Buffer.from(lines.join('\n'), 'utf8');
  const cut = bytes.indexOf(Buffer.from('ô')) + 1; // between the two bytes of "ô"
  s.push(bytes.subarray(0, cut), true);
  s.push(bytes.subarray(cut, cut + 70), true);
  t.same(seen, [], 'no interval before its line is complete');
  for (let i = cut + 70; i < bytes.length; i += 9) s.push(bytes.subarray(i, i + 9), true);
  t.equal(seen.length, 2, 'each interval is passed on once its line is complete');
  const doc = s.end();
  t.same(doc, {
    start: { version: 'iperf 3.18', host: 'hôte' },
    intervals: [{ sum: { end: 1, bits_per_second: 1e9 } }, { sum: { end: 2, bits_per_second: 2e9 } }],
    end: { sum_received: { bits_per_second: 1.5e9 } },
  }, 'and the -J shape comes back whole, the unterminated last line included');
});

t.test('noise is skipped; output over the size limit is passed on but not kept', async (t) => {
  const seen: unknown[] = [];
  const s = new JsonStream((d) => seen.push(d));
  s.push(Buffer.from(`warning: something\n${lines[0]}\n`), true);
  s.push(Buffer.from(`${lines[1]}\n${lines[2]}\n`), false);
  const doc = s.end();
  t.equal(seen.length, 2, 'both intervals were passed on');
  t.same(doc?.intervals, [], 'neither was kept');
  t.ok(doc?.start, 'what came before the limit was');
  t.equal(new JsonStream().end(), null, 'no event at all: null, as for -J output that does not parse');
});
