// A host session over the real daemon (local transport): which requests are sent again after
// a timeout, and which never are.
import t from 'tap';
import { normalizeInventory } from '../lib/inventory/load.js';
import { HostSession } from '../lib/mesh/session.js';
import { localTransport } from '../lib/transport/local.js';

const inventory = normalizeInventory({ transport: 'local', hosts: [{ name: 'a', address: '127.0.79.1' }, { name: 'b', address: '127.0.79.2' }] });

async function open(t: { teardown(f: () => unknown): void }) {
  const s = await HostSession.open({ transport: localTransport, host: inventory.hosts[0]!, ssh: inventory.ssh, options: { iperf3: 'iperf3', port_range: [7801, 7810] } });
  t.teardown(() => {
    try {
      process.kill(s.hello.pid, 'SIGCONT');
    } catch {}
    return s.close();
  });
  return s;
}

t.test('a timed-out status is sent once more and answered', async (t) => {
  const s = await open(t);
  process.kill(s.hello.pid, 'SIGSTOP');
  setTimeout(() => process.kill(s.hello.pid, 'SIGCONT'), 600);
  const res = await s.call('status', {}, 400);
  t.equal(res.pid, s.hello.pid, 'the second try got the answer');
});

t.test('a timed-out start_servers is never sent twice: it would start a second iperf3', async (t) => {
  const s = await open(t);
  process.kill(s.hello.pid, 'SIGSTOP');
  const servers = [{ id: 'b>a#0', source: 'b', destination: 'a', instance: 0, bind: '127.0.79.1' }];
  await t.rejects(s.call('start_servers', { servers }, 400), /start_servers got no answer within 400 ms/);
  await new Promise((r) => setTimeout(r, 300));
  process.kill(s.hello.pid, 'SIGCONT');
  const status = await s.call('status', {}, 5000);
  t.equal(status.instances.length, 1, 'the daemon received it once: one server');
});
