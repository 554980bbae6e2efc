import t from 'tap';
import { encodeLine, LineDecoder } from '../lib/protocol/framing.js';

const lines = (d: LineDecoder, ...chunks: string[]) =>
  chunks.flatMap((c) => d.push(Buffer.from(c)));

t.test('a message split across chunks comes out whole, once', async (t) => {
  const d = new LineDecoder(1024);
  const msg = encodeLine({ jsonrpc: '2.0', id: 1, method: 'hello', params: { s: 'a\nb' } });
  const parts = [msg.slice(0, 5), msg.slice(5, 17), msg.slice(17)];
  t.same(lines(d, parts[0]!, parts[1]!), [], 'nothing before the newline');
  const out = d.push(Buffer.from(parts[2]!));
  t.equal(out.length, 1);
  t.same(JSON.parse((out[0] as { line: string }).line), { jsonrpc: '2.0', id: 1, method: 'hello', params: { s: 'a\nb' } });
});

t.test('several messages in one chunk come out in order', async (t) => {
  const d = new LineDecoder(1024);
  const out = lines(d, encodeLine({ id: 1 }) + encodeLine({ id: 2 }) + encodeLine({ id: 3 }).slice(0, 4));
  t.same(out, [{ line: '{"id":1}' }, { line: '{"id":2}' }]);
  t.same(lines(d, '":3}\n'), [{ line: '{"id":3}' }], 'the tail completes with the next chunk');
});

t.test('a multi-byte character split between chunks survives', async (t) => {
  const d = new LineDecoder(1024);
  const bytes = Buffer.from('{"h":"é"}\n');
  const a = d.push(bytes.subarray(0, 7));
  const b = d.push(bytes.subarray(7));
  t.same([...a, ...b], [{ line: '{"h":"é"}' }]);
});

t.test('CRLF endings are accepted', async (t) => {
  t.same(new LineDecoder(100).push(Buffer.from('{"a":1}\r\n')), [{ line: '{"a":1}' }]);
});

t.test('an over-long line is refused without being buffered, and the next line is fine', async (t) => {
  const d = new LineDecoder(16);
  const out = lines(d, 'x'.repeat(10), 'y'.repeat(10), 'z'.repeat(100), 'tail\n{"ok":1}\n');
  t.equal(out.length, 2);
  t.ok('tooLong' in out[0]!, 'the long line is reported');
  t.same(out[1], { line: '{"ok":1}' });
});
