// The daemon under bad input and misbehaving iperf3s: real processes, real sockets.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CollectResult, InstanceRecord } from '../lib/protocol/messages.js';
import { daemonBundle, LOADER_JS, loaderArgs, loaderCommand } from '../lib/transport/loader.js';
import { startDaemon } from './helpers/daemon.js';
import { canRunLab, NO_LAB_REASON } from './helpers/lab.js';
import { alive, eventually, isIperf, processes } from './helpers/procs.js';

const iperfsOf = (addr: string) => processes().filter((p) => isIperf(p) && p.cmdline.includes(addr));

t.test('a server that loses its port to another program is retried once on another port', async (t) => {
  const ADDR = '127.0.78.1';
  // A socket bound but not listening is invisible in /proc/net/tcp, yet iperf3 cannot bind there:
  // the race the daemon cannot see coming.
  const holder = spawn('python3', ['-c', `import socket,time\ns=socket.socket()\ns.bind(("${ADDR}",7201))\nprint("bound",flush=True)\ntime.sleep(60)`]);
  t.teardown(() => holder.kill('SIGKILL'));
  await new Promise((r) => holder.stdout.once('data', r));
  const d = await startDaemon({ iperf3: 'iperf3', port_range: [7201, 7210], heartbeat_ms: 60_000 });
  t.teardown(() => d.close());
  const res = await d.call('start_servers', { servers: [{ id: 'b>a#0', source: 'b', destination: 'a', instance: 0, bind: ADDR }] });
  t.equal(res.result?.servers[0].port, 7202, 'the retry listens on the next free port');
  const all = (await d.call('collect', {})).result as CollectResult;
  const failed = all.instances.find((i) => i.id === 'b>a#0~failed')!;
  t.equal(failed.port, 7201);
  t.match((failed.iperf3 as { error: string }).error, /Address already in use/, 'the failed attempt keeps iperf3\'s own error');
});

t.test('a killed iperf3 is recorded with its signal; a hung one is killed after its grace', async (t) => {
  const ADDR = '127.0.78.2';
  const d = await startDaemon({ iperf3: 'iperf3', port_range: [7301, 7310], heartbeat_ms: 60_000 });
  t.teardown(() => d.close());
  const servers = [0, 1].map((k) => ({ id: `b>a#${k}`, source: 'b', destination: 'a', instance: k, bind: ADDR }));
  const ports = (await d.call('start_servers', { servers })).result.servers.map((s: { port: number }) => s.port);
  const pids = (await d.call('start_clients', {
    clients: [0, 1].map((k) => ({ id: `c>a#${k}`, source: 'c', destination: 'a', instance: k, host: ADDR, port: ports[k], options: { duration: 1, parallel: 1, protocol: 'tcp' } })),
  })).result.clients.map((c: { pid: number }) => c.pid);
  // The round's instant (these servers were not held): from it the clients have their deadlines.
  await d.call('release', {});
  // Client 0 dies mid-test. Client 1's server freezes, so client 1 never gets its results: it hangs.
  process.kill(pids[0], 'SIGKILL');
  const serverPids = (await d.call('status')).result.instances.filter((i: InstanceRecord) => i.role === 'server').map((i: InstanceRecord) => i.pid);
  process.kill(serverPids[1], 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(serverPids[1], 'SIGKILL');
    } catch {}
  });
  // The frozen server never exits, so collect answers at wait_ms with it still running.
  const done = (await d.call('collect', { wait_ms: 13_000 })).result as CollectResult;
  const client = (k: number) => done.instances.find((i) => i.role === 'client' && i.instance === k)!;
  t.equal(client(0).signal, 'SIGKILL', 'the killed client is recorded with its signal');
  t.equal(client(0).state, 'exited');
  t.equal(client(1).timed_out, true, 'the hung client was killed by the daemon');
  const ran = client(1).ended_at! - client(1).started_at;
  t.ok(ran >= 10_500 && ran < 13_000, `after its 1 s duration plus the 10 s grace (ran ${ran} ms)`);
  await d.call('stop');
  t.ok(await eventually(() => iperfsOf(ADDR).length === 0), 'stop leaves no iperf3, even a stopped (SIGSTOP) one');
});

t.test('with no word from the controller the daemon stops everything and exits', async (t) => {
  const ADDR = '127.0.78.3';
  const d = await startDaemon({ iperf3: 'iperf3', port_range: [7401, 7410], heartbeat_ms: 1500 });
  t.teardown(() => d.close());
  const res = await d.call('start_servers', { servers: [{ id: 'b>a#0', source: 'b', destination: 'a', instance: 0, bind: ADDR }] });
  const serverPid = res.result.servers[0].pid;
  // Say nothing more: stdin stays open, as on a cut link.
  const code = await Promise.race([d.exited, new Promise((r) => setTimeout(() => r('still running'), 5000))]);
  t.equal(code, 0, 'the daemon exited on its own');
  t.match(d.stderr(), /no word from the controller for \d+ ms \(allowed 1750 after the test, for 1 processes asked\)/, 'its heartbeat, plus 250 ms for its one process');
  t.notOk(alive(serverPid), 'and its iperf3 server is gone');
});

t.test('the silence a daemon allows does not shrink as its iperf3s end, and it says on stdout why it leaves', async (t) => {
  const ADDR = '127.0.78.4';
  const d = await startDaemon({ iperf3: 'iperf3', port_range: [7411, 7430], heartbeat_ms: 1500 });
  t.teardown(() => d.close());
  const servers = Array.from({ length: 8 }, (_, i) => ({ id: `b>a#${i}`, source: 'b', destination: 'a', instance: i, bind: ADDR }));
  const res = await d.call('start_servers', { servers });
  const started = Date.now();
  // Every process it was asked for ends; the controller still counts them (1500 + 8 · 250 ms).
  for (const s of res.result.servers) process.kill(s.pid, 'SIGKILL');
  t.ok(await eventually(() => iperfsOf(ADDR).length === 0), 'its iperf3s are gone');
  const early = await Promise.race([d.exited, new Promise((r) => setTimeout(() => r('still running'), 3000 - (Date.now() - started)))]);
  t.equal(early, 'still running', 'still waiting 3 s on: the allowance is for the 8 processes asked, not the 0 still running');
  const lines: { method?: string; params?: { reason?: string } }[] = [];
  const code = await Promise.race([
    (async () => {
      for (;;) {
        const m = await d.next();
        lines.push(m);
        if (m.method === 'meshperf.exiting') return d.exited;
      }
    })(),
    new Promise((r) => setTimeout(() => r('still running'), 6000)),
  ]);
  t.equal(code, 0, 'then it exits');
  t.ok(Date.now() - started >= 3500, `not before 3.5 s (${Date.now() - started} ms)`);
  t.match(lines.at(-1)?.params?.reason, /^no word from the controller for \d+ ms \(allowed 3500 after the test, for 8 processes asked\)$/, 'its reason, on stdout, before it closes');
});

t.test('a bundle that fails its sha256 is never run', async (t) => {
  const bundle = daemonBundle();
  const args = loaderArgs(bundle, { iperf3: 'iperf3', port_range: [7501, 7510], heartbeat_ms: 60_000 });
  args[1] = 'f'.repeat(64);
  const r = spawnSync(process.execPath, ['-e', LOADER_JS, ...args], { input: bundle.code, encoding: 'utf8', timeout: 10_000 });
  t.equal(r.status, 3);
  t.match(r.stderr, /checksum mismatch/);
  t.equal(r.stdout, '', 'not a line from the daemon');
});

t.test('the remote command line holds only checked words', async (t) => {
  const bundle = daemonBundle();
  const ok = loaderCommand('/usr/bin/node', bundle, { iperf3: '/usr/bin/iperf3', port_range: [5201, 5999], heartbeat_ms: 10_000 });
  t.match(ok, /^exec \/usr\/bin\/node -e '[^']+' \d+ [0-9a-f]{64} [A-Za-z0-9_-]+$/);
  t.throws(() => loaderCommand('node; reboot', bundle, { iperf3: 'iperf3', port_range: [1, 2], heartbeat_ms: 10_000 }), /refusing to put "node; reboot" on a remote command line/);
  t.notMatch(LOADER_JS, /'/, 'the loader has no single quote to break out of its quoting');
});

t.test('fuzz: thousands of random and mutated lines, and the daemon still answers', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  // In a namespace with nothing but loopback: whatever a mutated request asks for, no packet
  // can leave this machine.
  const ns = `meshperf-fuzz-${process.pid}`;
  spawnSync('ip', ['netns', 'add', ns]);
  spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  t.teardown(() => {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
    for (const p of pids) try { process.kill(Number(p), 'SIGKILL'); } catch {}
    spawnSync('ip', ['netns', 'del', ns]);
  });
  const d = await startDaemon({ iperf3: 'iperf3', port_range: [7601, 7700], heartbeat_ms: 60_000 }, ns);
  t.teardown(() => d.close());

  const label = { id: 'a>b#0', source: 'a', destination: 'b', instance: 0 };
  const templates: unknown[] = [
    { jsonrpc: '2.0', id: 1, method: 'hello' },
    { jsonrpc: '2.0', id: 2, method: 'status', params: {} },
    { jsonrpc: '2.0', id: 3, method: 'collect', params: { wait_ms: 0 } },
    { jsonrpc: '2.0', id: 4, method: 'ping' },
    { jsonrpc: '2.0', id: 5, method: 'start_servers', params: { servers: [{ ...label, bind: '127.0.0.1' }] } },
    { jsonrpc: '2.0', id: 6, method: 'start_clients', params: { clients: [{ ...label, host: '127.0.0.1', port: 7601, options: { duration: 1, parallel: 1, protocol: 'tcp' } }] } },
  ];
  const junk = [null, true, -1, 1e308, 2 ** 53, '', 'x'.repeat(300), '; rm -rf /', [], {}, { __proto__: { a: 1 } }, '\u0000', NaN];
  const pick = <T>(a: T[]): T => a[Math.floor(Math.random() * a.length)]!;
  function mutate(v: any, depth = 0): any {
    if (depth > 4 || Math.random() < 0.15) return pick(junk);
    if (Array.isArray(v)) return Math.random() < 0.2 ? [...v, ...v] : v.map((x) => mutate(x, depth + 1));
    if (v && typeof v === 'object') {
      const o: any = {};
      for (const [k, x] of Object.entries(v)) if (Math.random() > 0.1) o[Math.random() < 0.05 ? k + 'x' : k] = Math.random() < 0.5 ? mutate(x, depth + 1) : x;
      if (Math.random() < 0.1) o[pick(['method', 'params', 'id', 'jsonrpc', 'constructor', '__proto__'])] = pick(junk);
      return o;
    }
    return Math.random() < 0.5 ? pick(junk) : v;
  }
  let lines = 0;
  for (let i = 0; i < 3000; i++) {
    const r = Math.random();
    let line: string;
    if (r < 0.2) line = randomBytes(1 + Math.floor(Math.random() * 200)).toString('latin1').replace(/\n/g, '');
    else if (r < 0.3) line = JSON.stringify(pick(templates)).slice(0, Math.floor(Math.random() * 60));
    else line = JSON.stringify(mutate(pick(templates))) ?? 'null';
    d.raw(line + '\n');
    lines++;
  }
  // Oversized lines, several times the limit each, must not grow the daemon's memory.
  const big = Buffer.alloc(4 * 1024 * 1024, 'x');
  for (let i = 0; i < 20; i++) d.raw(big.toString());
  d.raw('\n');
  const hello = await d.call('hello');
  t.equal(hello.result?.pid, d.pid, `after ${lines} random lines and 80 MiB of one line the same daemon answers`);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'))![1]);
  t.ok(rssKb < 200 * 1024, `memory stays bounded (${Math.round(rssKb / 1024)} MiB resident)`);
  t.ok(alive(d.pid));
  await d.call('stop');
});
