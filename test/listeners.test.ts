// A library user's onEvent that throws, or rejects, is the caller's bug: the run goes on, every
// pair is measured, and the failure is reported once. Real daemons and iperf3 (local transport).
import t from 'tap';
import { normalizeInventory, runMesh, type MeshEvent } from '../lib/index.js';
import { schemaErrors } from './helpers/schema.js';

const inventory = () =>
  normalizeInventory({
    transport: 'local',
    test: { duration: 2, processes: 1, port_range: '7901-7950' },
    hosts: [{ name: 'a', address: '127.0.81.1' }, { name: 'b', address: '127.0.81.2' }, { name: 'c', address: '127.0.81.3' }],
  });

const cases: [string, (e: MeshEvent) => unknown][] = [
  ['throws on host-ready', (e) => {
    if (e.type === 'host-ready') throw new Error('listener bug');
  }],
  ['rejects on every event', async () => {
    throw new Error('listener bug');
  }],
  ['throws on test-running (called from a timer)', (e) => {
    if (e.type === 'test-running') throw new Error('listener bug');
  }],
];

for (const [name, bad] of cases) {
  t.test(`a listener that ${name}: nothing lost, reported once`, async (t) => {
    const seen: MeshEvent[] = [];
    const doc = await runMesh({
      inventory: inventory(),
      onEvent: (e) => {
        seen.push(e);
        return bad(e);
      },
    });
    t.equal(schemaErrors(doc), '');
    t.same(doc.run.hosts.map((h) => h.status), ['ok', 'ok', 'ok'], 'no host marked failed');
    t.equal(doc.summary.pairs_ok, 6, 'every pair measured');
    t.equal(doc.run.warnings.length, 1, 'one warning');
    t.match(doc.run.warnings[0], /the onEvent listener threw on a "[a-z-]+" event: listener bug/);
    t.equal(seen.filter((e) => e.type === 'listener-error').length, 1, 'one listener-error event');
    t.equal(seen.at(-1)?.type, 'done', 'and the listener still hears the end');
  });
}
