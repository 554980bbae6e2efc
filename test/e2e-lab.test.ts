// End to end, as a library user would: import from 'meshperf', real sshd, real iperf3, 4 hosts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { loadInventory, runMesh, writeResults, type MeshEvent } from 'meshperf';
import { canRunLab, filesOnHost, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

t.test('4-host lab over SSH: 12 pairs measured, valid results, nothing left behind', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 4, '198.19.101.0/24');
  const inventory = await loadInventory(lab.inventory);
  const events: MeshEvent[] = [];
  const filesBefore = filesOnHost(lab);

  const doc = await runMesh({ inventory, test: { duration: 2 }, onEvent: (e) => events.push(e) });

  t.equal(doc.summary.pairs, 12);
  t.equal(doc.summary.pairs_ok, 12, 'all 12 ordered pairs ok');
  t.equal(doc.run.parameters.transport, 'ssh');
  for (const h of doc.run.hosts) {
    t.equal(h.status, 'ok');
    t.equal(h.hostname, h.name, `${h.name} answered from its own host (uts namespace)`);
  }
  for (const [src, { destinations }] of Object.entries(doc.sources)) {
    for (const [dst, pair] of Object.entries(destinations)) {
      t.ok(pair.summary.throughput_bps > 1e6, `${src} -> ${dst} carried ${Math.round(pair.summary.throughput_bps / 1e6)} Mbit/s`);
      const sum = pair.instances.reduce((a, i) => a + i.metrics.throughput_bps!, 0);
      t.equal(pair.summary.throughput_bps, sum, 'a pair is the sum of its instances');
      const i = pair.instances[0]!;
      t.equal(i.client!.address, inventory.hosts.find((h) => h.name === src)!.address);
      t.equal(i.server!.address, inventory.hosts.find((h) => h.name === dst)!.address);
      t.match(i.started_at, /\.\d{3}Z$/, 'timestamps carry milliseconds');
    }
  }
  t.equal(schemaErrors(doc), '', 'results.json is valid against the schema');
  t.ok(events.some((e) => e.type === 'clients-started'), 'progress events were emitted');
  t.equal(events.at(-1)!.type, 'done');

  const created = [...filesOnHost(lab)].filter((f) => !filesBefore.has(f));
  t.same(created, [], 'no file written on any host (/tmp, /var/tmp, home)');

  const files = await writeResults(doc, `${lab.tmp}/out`);
  const written = JSON.parse(readFileSync(files.json, 'utf8'));
  t.equal(schemaErrors(written), '', 'the written file is valid too');
  const csv = readFileSync(files.csv, 'utf8').trim().split('\n');
  t.equal(csv.length - 1, doc.summary.instances, 'one CSV row per instance');

  t.same(await leftovers(lab), [], 'no iperf3 or daemon left on any host');
});
