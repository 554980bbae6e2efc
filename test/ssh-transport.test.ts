// Peers that drop the connection before the SSH handshake, as sshd does when MaxStartups throttles
// handshakes: by a reset or by a plain close. Either is one clear, retryable error, never a crash.
import t from 'tap';
import { once } from 'node:events';
import net from 'node:net';
import { parseInventory } from '../lib/inventory/load.js';
import { sshTransport } from '../lib/transport/ssh.js';
import { HostError } from '../lib/transport/types.js';

async function dropper(address: string, drop: (s: net.Socket) => void): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((s) => drop(s));
  server.listen(0, address);
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

// sshd reads the client's version line, then drops it: a reset if it leaves bytes unread.
const cases: [string, (s: net.Socket) => void][] = [
  ['reset', (s) => s.once('data', () => s.resetAndDestroy())],
  ['closed', (s) => s.end()],
];

for (const [how, drop] of cases) {
  t.test(`a connection ${how} before the handshake`, async (t) => {
    const address = '127.0.79.1';
    const peer = await dropper(address, drop);
    t.teardown(peer.close);
    const uncaught: Error[] = [];
    const onUncaught = (err: Error) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    t.teardown(() => process.off('uncaughtException', onUncaught));

    const inv = parseInventory(`[ssh]\nport = ${peer.port}\nknown_hosts = "/dev/null"\n[[hosts]]\nname = "a"\naddress = "${address}"\n[[hosts]]\nname = "b"\naddress = "127.0.79.2"\n`);
    const err = await sshTransport.open({ host: inv.hosts[0]!, ssh: inv.ssh, options: { heartbeat_ms: 10_000, port_range: [5201, 5299], iperf3: 'iperf3' } }).catch((e: unknown) => e);
    t.ok(err instanceof HostError, 'rejects with a HostError');
    t.equal((err as HostError).code, 'unreachable', 'unreachable: the connect is retried');
    t.match((err as HostError).message, /closed it before the SSH handshake: too many handshakes at once \(MaxStartups\)/, 'and it says what it may mean');
    // ssh2 reports a reset twice (the socket's error, then "lost before handshake"): wait for both.
    await new Promise((r) => setTimeout(r, 200));
    t.same(uncaught.map((e) => e.message), [], 'no error escapes');
  });
}
