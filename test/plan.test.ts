import t from 'tap';
import { normalizeInventory } from '../lib/inventory/load.js';
import { autoProcesses, planClients, planServers } from '../lib/mesh/plan.js';

const hosts = normalizeInventory({
  hosts: [
    { name: 'a', address: '198.19.1.1' },
    { name: 'b', address: '198.19.1.2' },
    { name: 'c', address: '198.19.1.3' },
  ],
}).hosts;

t.test('each host serves K instances for every peer, on its own address', async (t) => {
  const plan = planServers(hosts, 2);
  t.same(plan.get('a')!.map((s) => s.id), ['b>a#0', 'b>a#1', 'c>a#0', 'c>a#1']);
  t.ok(plan.get('a')!.every((s) => s.bind === '198.19.1.1' && s.destination === 'a'));
  t.equal([...plan.values()].flat().length, 3 * 2 * 2, 'N·(N−1)·K servers in all');
});

t.test('clients go only to servers that started, at the port their daemon chose', async (t) => {
  const ports = new Map([['a>b#0', 5201], ['a>c#0', 5300]]);
  const plan = planClients(hosts, 1, ports, { duration: 3, parallel: 4 });
  t.same(plan.get('a'), [
    { id: 'a>b#0', source: 'a', destination: 'b', instance: 0, host: '198.19.1.2', port: 5201, bind: '198.19.1.1', duration: 3, parallel: 4 },
    { id: 'a>c#0', source: 'a', destination: 'c', instance: 0, host: '198.19.1.3', port: 5300, bind: '198.19.1.1', duration: 3, parallel: 4 },
  ]);
  t.same(plan.get('b'), [], 'no server for b, no client');
});

t.test('auto sizing keeps 2·K·(N−1) processes within the smallest host', async (t) => {
  t.equal(autoProcesses([16, 32], 2), 8, '16 cpus, 1 peer: 8 clients + 8 servers');
  t.equal(autoProcesses([64, 16, 64, 64, 64], 5), 2, 'the smallest host decides');
  t.equal(autoProcesses([2, 2, 2, 2], 4), 1, 'never below 1');
});
