// results.json written piece by piece, its iperf3 documents copied from the run's journal: the
// text is JSON.stringify's, every document is whole in the file, and the document runMesh returns
// reads the same documents back (real daemons and iperf3, local transport on loopback).
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { normalizeInventory, runMesh } from '../lib/index.js';
import { writeJsonFile } from '../lib/results/write-json.js';
import { schemaErrors } from './helpers/schema.js';

function tmpDir(t: Test): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-write-json-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('the text is JSON.stringify\'s, compact and indented', async (t) => {
  const dir = tmpDir(t);
  const value = {
    a: 1, s: 'ü "quoted" \n line', none: null, gone: undefined, f: () => 1, nan: NaN, inf: -Infinity,
    empty: {}, list: [], nested: [[1, [2, {}]], { x: [undefined, () => 0, 'y'] }], at: new Date(0), deep: { a: { b: { c: [true, false] } } },
  };
  for (const indent of [0, 2]) {
    const file = path.join(dir, `v${indent}.json`);
    writeJsonFile(file, value, indent);
    t.equal(readFileSync(file, 'utf8'), JSON.stringify(value, null, indent) + '\n', `indent ${indent}`);
  }
});

t.test('a run with --out: whole documents in results.json, the same ones in the returned document', async (t) => {
  const out = tmpDir(t);
  for (const pretty of [false, true]) {
    const dir = path.join(out, pretty ? 'pretty' : 'compact');
    const doc = await runMesh({
      inventory: normalizeInventory({
        transport: 'local',
        test: { duration: 1, processes: 2, port_range: '7951-7999' },
        hosts: [{ name: 'a', address: '127.0.82.1' }, { name: 'b', address: '127.0.82.2' }, { name: 'c', address: '127.0.82.3' }],
      }),
      out: dir,
      pretty,
    });
    t.equal(doc.summary.instances_ok, 12, `${dir}: every instance measured`);
    const text = readFileSync(path.join(dir, 'results.json'), 'utf8');
    const file = JSON.parse(text);
    t.equal(schemaErrors(file), '', 'results.json is valid');
    const first = file.sources.a.destinations.b.instances[0];
    // What the run keeps in memory leaves these out: they came from the journal's copy.
    t.ok(first.iperf3.start.system_info && first.iperf3.intervals[0].streams.length === 1, 'the client\'s document is whole: start.system_info, each interval\'s streams');
    t.ok(first.server.iperf3.start.connected[0].remote_host, 'so is the server\'s');
    t.same(doc.sources.a!.destinations.b!.instances[0]!.iperf3, first.iperf3, 'the returned document reads the same client document');
    t.same(doc.sources.c!.destinations.a!.instances[1]!.server!.iperf3, file.sources.c.destinations.a.instances[1].server.iperf3, 'and server document');
    t.equal(JSON.stringify(doc, null, pretty ? 2 : 0) + '\n', text, 'the returned document, stringified, is results.json to the byte');
    t.notOk(existsSync(path.join(dir, 'partial')), 'the journal is gone');
    const held = (o: object) => typeof Object.getOwnPropertyDescriptor(o, 'iperf3')?.get === 'function';
    const all = Object.values(doc.sources).flatMap((s) => Object.values(s.destinations).flatMap((p) => p.instances));
    t.ok(all.every((i) => held(i) && held(i.server!)), 'each document is read from results.json when asked, not held in memory');
  }
});
