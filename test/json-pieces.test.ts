// results.json is written in pieces (lib/results/json-pieces.ts) so that no run's document is
// ever one string; what lands on disk must still be exactly what JSON.stringify prints.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jsonPieces } from '../lib/results/json-pieces.js';
import { writePiecesAtomic } from '../lib/results/files.js';

const samples: Record<string, unknown> = {
  scalars: [1, 'two', true, null, -0, 1e21, 'quote " and \\ and \n newline'],
  nested: { run: { id: 'x', timings: {} }, sources: { a: { destinations: { b: { instances: [{ n: 1, raw: { deep: [[1, [2, { three: 3 }]]] } }] } } } } },
  dropped: { keep: 1, gone: undefined, fn: () => 1, list: [undefined, () => 1, 2], at: new Date(0) },
  empty: { o: {}, a: [], s: '' },
};

t.test('every depth and indent prints what JSON.stringify prints', async (t) => {
  for (const [name, value] of Object.entries(samples)) {
    for (const indent of [0, 2]) {
      for (const depth of [0, 1, 3, 6, 20]) {
        t.equal([...jsonPieces(value, depth, indent)].join(''), JSON.stringify(value, null, indent), `${name}, depth ${depth}, indent ${indent}`);
      }
    }
  }
});

t.test('no piece holds more than one value below the walked depth', async (t) => {
  const big = 'x'.repeat(10_000);
  const doc = { sources: { a: { destinations: { b: { instances: Array.from({ length: 50 }, (_, i) => ({ i, big })) } } } } };
  const longest = Math.max(...[...jsonPieces(doc, 6)].map((p) => p.length));
  t.ok(longest < 10_100, `longest piece ${longest} chars, one instance (the document is ${JSON.stringify(doc).length})`);
});

t.test('the file appears whole, and an error leaves no file behind', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-pieces-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'results.json');
  const value = { list: Array.from({ length: 3000 }, (_, i) => ({ i, pad: 'y'.repeat(500) })) };
  await writePiecesAtomic(file, jsonPieces(value, 2));
  t.same(JSON.parse(readFileSync(file, 'utf8')), value, 'more than one 1 MiB chunk, read back whole');
  function* failing() {
    yield '{"a":';
    throw new Error('disk gone');
  }
  await t.rejects(writePiecesAtomic(path.join(dir, 'other.json'), failing()), /disk gone/);
  t.same(readdirSync(dir).sort(), ['results.json'], 'neither the file nor its temporary name');
});
