// Versions side by side on one mesh: iperf3 3.12 (Debian 12) and 3.18 (Debian 13), with live
// progress from the newer; the daemon on Node.js 16, 18 and this machine's; a Node.js too old.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadInventory, runMesh, type MeshEvent } from '../lib/index.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { iperf3FromTrixie, nodeFromDebian, nodeFromNpm } from './helpers/versions.js';
import { schemaErrors } from './helpers/schema.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-versions-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const sub = (name: string) => path.join(dir, name);
const newer = canRunLab ? iperf3FromTrixie(sub('iperf3')) : { skip: NO_LAB_REASON };
if ('skip' in newer) t.comment(`mixed-version test skipped: ${newer.skip}`);

t.test('3.12 and 3.18 on one mesh; live intervals from 3.18 clients', { skip: 'skip' in newer && newer.skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.121.0/24');
  const inventory = await loadInventory(lab.inventory);
  inventory.hosts[2]!.iperf3 = (newer as { path: string }).path;
  const events: MeshEvent[] = [];
  const doc = await runMesh({ inventory, test: { duration: 3, processes: 1 }, onEvent: (e) => events.push(e) });
  t.equal(schemaErrors(doc), '');
  t.same(doc.run.hosts.map((h) => h.iperf3_version), ['3.12', '3.12', '3.18'], 'each daemon reports the version it found');
  t.equal(doc.summary.pairs_ok, 6, 'every pair, whatever its versions, is measured');
  const v = (src: string, dst: string) => {
    const i = doc.sources[src]!.destinations[dst]!.instances[0]!;
    return [i.client!.iperf3_version, i.server!.iperf3_version];
  };
  t.same(v('h3', 'h1'), ['3.18', '3.12'], 'h3 -> h1: a 3.18 client against a 3.12 server');
  t.same(v('h1', 'h3'), ['3.12', '3.18'], 'h1 -> h3: the other way round');
  t.same(v('h1', 'h2'), ['3.12', '3.12']);

  const intervals = events.filter((e): e is Extract<MeshEvent, { type: 'interval' }> => e.type === 'interval');
  t.same([...new Set(intervals.map((e) => e.id))].sort(), ['h3>h1#0', 'h3>h2#0'], 'live intervals come from the --json-stream (3.18) clients only');
  t.ok(intervals.filter((e) => e.id === 'h3>h1#0').length >= 2, 'one per second while it runs');
  t.ok(events.some((e) => e.type === 'test-running' && e.throughput_bps !== null && e.throughput_bps > 0), 'progress carries the live throughput');
  const streamed = doc.sources.h3!.destinations.h1!.instances[0]!.iperf3 as { intervals: unknown[]; end: { sum_received: unknown } };
  t.equal(streamed.intervals.length, 3, 'the streamed document is reassembled: its intervals');
  t.ok(streamed.end.sum_received, 'and its summary');
  t.same(await leftovers(lab), []);
});

// The daemon is bundled for Node.js >= 16: run it there, on the official builds npm carries.
const node16 = canRunLab ? nodeFromNpm(sub('node16'), 16) : { skip: NO_LAB_REASON };
const node18 = canRunLab ? nodeFromNpm(sub('node18'), 18) : { skip: NO_LAB_REASON };
const oldNodes = ('skip' in node16 && node16.skip) || ('skip' in node18 && node18.skip);
if (oldNodes) t.comment(`Node.js 16/18 test skipped: ${oldNodes}`);

t.test('the daemon runs on Node.js 16 and 18 beside the newest', { skip: oldNodes }, async (t) => {
  const lab = await withLab(t, 3, '198.19.127.0/24');
  const inventory = await loadInventory(lab.inventory);
  inventory.hosts[0]!.node = (node16 as { path: string }).path;
  inventory.hosts[1]!.node = (node18 as { path: string }).path;
  const doc = await runMesh({ inventory, test: { duration: 2, processes: 2 } });
  t.equal(schemaErrors(doc), '');
  t.same(doc.run.hosts.map((h) => h.node_version?.split('.')[0]), ['v16', 'v18', process.version.split('.')[0]], 'each daemon ran on the Node.js it was given');
  t.equal(doc.summary.pairs_ok, 6, 'and every pair is measured');
  t.ok(doc.sources.h1!.destinations.h2!.instances.every((i) => i.client!.cpu !== null), 'pinning works there too');
  t.same(await leftovers(lab), []);
});

// Debian's own Node 18 cannot be borrowed like Node 12 (it loads parts of itself from
// /usr/share/nodejs). Node 12, too old for the daemon, is refused by the loader by name.
const node12 = canRunLab ? nodeFromDebian(sub('node12'), 12) : { skip: NO_LAB_REASON };
if ('skip' in node12) t.comment(`Node.js version test skipped: ${node12.skip}`);

t.test('a host whose Node.js is too old (12) is named, and the others run', { skip: 'skip' in node12 && node12.skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.123.0/24');
  const inventory = await loadInventory(lab.inventory);
  inventory.hosts[2]!.node = (node12 as { path: string }).path;
  const doc = await runMesh({ inventory, test: { duration: 1, processes: 1 } });
  const h3 = doc.run.hosts[2]!;
  t.equal(h3.error?.code, 'no_node');
  t.match(h3.error?.message, /Node\.js >= 16 needed, this is v12\.22/);
  t.equal(doc.sources.h1!.destinations.h2!.summary.status, 'ok');
  t.equal(doc.sources.h2!.destinations.h1!.summary.status, 'ok');
  t.same(await leftovers(lab), []);
});
