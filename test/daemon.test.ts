// The real daemon bundle, started through the real loader as a child process, driven over stdio.
import t from 'tap';
import { readFileSync } from 'node:fs';
import type { CollectResult, HelloResult, StartServersResult } from '../lib/protocol/messages.js';
import { parseProcNetTcp, TCP_LISTEN } from '../lib/shared/proc-net-tcp.js';
import { procState } from '../lib/daemon/proc.js';
import { startDaemon as start } from './helpers/daemon.js';
import { alive, eventually, isIperf, processes } from './helpers/procs.js';

const ADDR = '127.0.77.1';
const RANGE: [number, number] = [6101, 6199];
const startDaemon = () => start({ iperf3: 'iperf3', port_range: RANGE, heartbeat_ms: 60_000 });

t.test('daemon over stdio: hello, two servers, a client, collect, stdin closed', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.close());
  const daemonPid = d.pid;

  const garbage = (d.raw('this is not json\n'), await d.next());
  t.equal(garbage.error?.code, -32700, 'a garbage line gets a JSON-RPC parse error');
  t.equal(garbage.id, null);

  const hello = (await d.call('hello')).result as HelloResult;
  t.match(hello.iperf3_version, /^3\.\d+/, 'the daemon found iperf3 and says its version');
  t.equal(hello.pid, daemonPid, 'and it is still the same process after the garbage');
  t.ok(hello.cpus.length >= 1);

  const servers = [0, 1].map((k) => ({ id: `a>b#${k}`, source: 'b', destination: 'a', instance: k, bind: ADDR }));
  const started = (await d.call('start_servers', { servers })).result as StartServersResult;
  t.equal(started.servers.length, 2);
  const ports = started.servers.map((s) => s.port);
  t.not(ports[0], ports[1], 'each server has its own port');
  for (const s of started.servers) {
    t.ok(s.port >= RANGE[0] && s.port <= RANGE[1], `port ${s.port} is inside the range`);
    const listening = [...parseProcNetTcp(readFileSync('/proc/net/tcp', 'utf8'))].some((e) => e.port === s.port && e.state === TCP_LISTEN);
    t.ok(listening, `port ${s.port} is in LISTEN state when start_servers answers`);
    const allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${s.pid}/status`, 'utf8'))?.[1];
    t.equal(allowed, String(s.cpu), `server ${s.pid} is pinned to cpu ${s.cpu}`);
  }

  const bad = await d.call('start_clients', { clients: [{ id: 'x', source: 'a', destination: 'b', instance: 0, host: ADDR, port: 80, options: { duration: 1, parallel: 1, protocol: 'tcp' } }] });
  t.equal(bad.error?.code, -32602, 'a port outside the range is refused');
  t.match(bad.error?.message, /params\.clients\[0\]\.port must be an integer from 6101 to 6199/);

  const client = { id: 'b>a#0', source: 'b', destination: 'a', instance: 0, host: ADDR, port: ports[0], options: { duration: 1, parallel: 2, protocol: 'tcp' } };
  const cs = await d.call('start_clients', { clients: [client] });
  t.equal(cs.result.clients.length, 1);

  const collected = (await d.call('collect', { wait_ms: 800 })).result as CollectResult;
  const byRole = (role: string, id: string) => collected.instances.find((i) => i.role === role && i.id === id)!;
  t.equal(collected.instances.length, 3);
  // wait_ms 800 < the 1 s test: the answer comes back with the client still running.
  t.equal(byRole('client', 'b>a#0').state, 'running', 'collect answers after wait_ms even if instances still run');

  // The unused server never exits: wait long enough for the client, not for everything.
  const done = (await d.call('collect', { wait_ms: 2500 })).result as CollectResult;
  const c = done.instances.find((i) => i.role === 'client')!;
  t.equal(c.state, 'exited');
  t.equal(c.exit_code, 0);
  t.equal(c.daemon_pid, daemonPid);
  t.ok(c.ended_at! - c.started_at >= 900, 'the client ran for its duration');
  const doc = c.iperf3 as any;
  t.ok(doc.end.sum_received.bits_per_second > 0, 'collect returns the client iperf3 JSON with a throughput');
  t.equal(doc.start.test_start.num_streams, 2, 'with -P 2');
  t.same(c.argv.slice(1, 3), ['-c', ADDR]);
  const s0 = done.instances.find((i) => i.role === 'server' && i.port === ports[0])!;
  t.equal(s0.state, 'exited', 'the one-off server exits after its test');
  t.ok((s0.iperf3 as any).end, 'and its JSON is collected too');
  const s1 = done.instances.find((i) => i.role === 'server' && i.port === ports[1])!;
  t.equal(s1.state, 'running', 'the server nobody used still runs');

  d.child.stdin.end();
  await d.exited;
  t.ok(await eventually(() => !alive(s1.pid)), 'stdin closed: the idle server is gone');
  t.notOk(alive(daemonPid), 'and the daemon has exited');
  t.same(processes().filter((p) => isIperf(p) && p.cmdline.includes(ADDR)), [], 'no iperf3 of this test is left');
});

t.test('the daemon refuses bad requests and stays up', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.close());
  const cases: [string, number, RegExp][] = [
    ['{"jsonrpc":"2.0","id":1,"method":"rm -rf"}', -32601, /method not found/],
    ['[1,2,3]', -32600, /invalid request/],
    ['{"jsonrpc":"1.0","id":2,"method":"hello"}', -32600, /invalid request/],
    ['{"jsonrpc":"2.0","id":3,"method":"start_servers","params":{"servers":[{"id":"a","source":"x","destination":"y","instance":0,"bind":"1.2.3.4; reboot"}]}}', -32602, /params\.servers\[0\]\.bind must be an IP address/],
    ['{"jsonrpc":"2.0","id":4,"method":"collect","params":{"wait_ms":-1}}', -32602, /wait_ms/],
    ['{"jsonrpc":"2.0","id":5,"method":"hello","params":{"extra":1}}', -32602, /takes no fields/],
  ];
  for (const [line, code, msg] of cases) {
    d.raw(line + '\n');
    const res = await d.next();
    t.equal(res.error?.code, code, line.slice(0, 60));
    t.match(res.error?.message, msg);
  }
  d.raw('x'.repeat(17 * 1024 * 1024) + '\n');
  const long = await d.next();
  t.equal(long.error?.code, -32003, 'an over-long line is refused');
  const hello = await d.call('hello');
  t.ok(hello.result.pid, 'and the daemon still answers');
});

// Held servers: listening and stopped; clients connect to them ahead and wait; one release wakes
// them at the instant. Twice: with the daemon leading its own process group (as under sshd: one
// signal wakes all) and sharing one (one by one).
for (const detached of [true, false]) {
  t.test(`servers held, clients connected ahead, released at one instant (daemon ${detached ? 'leads its own process group' : 'shares a process group'})`, async (t) => {
    const d = await start({ iperf3: 'iperf3', port_range: RANGE, heartbeat_ms: 60_000 }, undefined, detached);
    t.teardown(() => d.close());
    const servers = [0, 1, 2].map((k) => ({ id: `h>s#${k}`, source: 'h', destination: 's', instance: k, bind: ADDR }));
    const started = ((await d.call('start_servers', { servers, hold: true })).result as StartServersResult).servers;
    for (const s of started) t.equal(procState(s.pid), 'T', `server ${s.pid} is held stopped once listening`);
    const clients = started.map((s, k) => ({ id: `s>h#${k}`, source: 's', destination: 'h', instance: k, host: ADDR, port: s.port, options: { duration: 1, parallel: 1, protocol: 'tcp' } }));
    const ready = await d.call('start_clients', { clients });
    t.same(ready.result.clients.map((c: { connected: boolean }) => c.connected), [true, true, true], 'the daemon answers once every client is connected to its held server');
    await new Promise((r) => setTimeout(r, 300));
    for (const s of started) t.equal(procState(s.pid), 'T', 'the servers stay stopped until the release');
    t.ok((await d.call('ping')).result.time_ms, 'the daemon answers while its servers are held');
    const startAt = Date.now() + 300;
    const released = await d.call('release', { start_at: startAt, servers: servers.map((s) => s.id) });
    t.match(released.result, { servers: 3, clients: 3 });
    t.ok(released.result.released_at >= startAt && released.result.released_at - startAt < 50, `woken within ${released.result.released_at - startAt} ms of the instant`);
    const done = (await d.call('collect', { wait_ms: 5000 })).result as CollectResult;
    for (const c of done.instances.filter((i) => i.role === 'client')) {
      t.equal(c.exit_code, 0, `${c.id} ran and exited cleanly`);
      t.equal(c.scheduled_at, startAt, 'and records the instant');
      t.ok(c.traffic_started_at! >= startAt - 5 && c.traffic_started_at! - startAt < 200, `its traffic began ${c.traffic_started_at! - startAt} ms after the instant`);
      const seconds = (c.iperf3 as { end: { sum_sent: { seconds: number } } }).end.sum_sent.seconds;
      t.ok(Math.abs(seconds - 1) < 0.05, `and it ran its whole 1 s test (${seconds} s): the wait before the release did not eat into it`);
    }
    for (const s of done.instances.filter((i) => i.role === 'server')) t.ok(s.released_at! >= startAt, `${s.id} records its wake`);
    t.same((await d.call('release', { start_at: Date.now(), extra: 1 })).error?.code, -32602, 'release takes only start_at and servers');
  });
}

t.test('a client whose held server never wakes is killed at its deadline, not left waiting', async (t) => {
  const d = await start({ iperf3: 'iperf3', port_range: RANGE, heartbeat_ms: 60_000 });
  t.teardown(() => d.close());
  const servers = [{ id: 'h>s#0', source: 'h', destination: 's', instance: 0, bind: ADDR }];
  const [server] = ((await d.call('start_servers', { servers, hold: true })).result as StartServersResult).servers;
  const clients = [{ id: 's>h#0', source: 's', destination: 'h', instance: 0, host: ADDR, port: server!.port, options: { duration: 1, parallel: 1, protocol: 'tcp' } }];
  await d.call('start_clients', { clients });
  // Released, but its server (as if on a host that was lost) is not among those woken.
  await d.call('release', {});
  const { instances } = (await d.call('collect', { wait_ms: 15_000, role: 'client' })).result as CollectResult;
  t.equal(instances[0]!.state, 'exited', 'the client is gone by its deadline (duration + grace)');
  t.equal(instances[0]!.timed_out, true, 'and is said to have timed out');
  t.equal(instances[0]!.traffic_started_at, null, 'its traffic never began, and the record says so');
});

t.test('a client whose release never comes is killed once the wait the controller gave has passed (release_within_ms)', async (t) => {
  const d = await start({ iperf3: 'iperf3', port_range: RANGE, heartbeat_ms: 60_000 });
  t.teardown(() => d.close());
  const servers = [{ id: 'h>s#0', source: 'h', destination: 's', instance: 0, bind: ADDR }];
  const [server] = ((await d.call('start_servers', { servers, hold: true })).result as StartServersResult).servers;
  const clients = [{ id: 's>h#0', source: 's', destination: 'h', instance: 0, host: ADDR, port: server!.port, options: { duration: 1, parallel: 1, protocol: 'tcp' } }];
  const began = Date.now();
  await d.call('start_clients', { clients, release_within_ms: 1000 });
  // No release: the controller gave up on this host. 1 s of wait, its 1 s test, its 10 s grace.
  const { instances } = (await d.call('collect', { wait_ms: 30_000, role: 'client' })).result as CollectResult;
  const after = Date.now() - began;
  t.equal(instances[0]!.state, 'exited');
  t.equal(instances[0]!.timed_out, true);
  t.ok(after >= 11_500 && after < 16_000, `killed ${after} ms after it connected (wait 1 s + test 1 s + grace 10 s), not at the 120 s default`);
  t.equal((await d.call('start_clients', { clients: [], release_within_ms: 10 })).error?.code, -32602, 'a wait under 1 s is refused');
});
