// Versions side by side on one mesh: iperf3 3.9, 3.12, 3.18 and the newest (Debian 11, 12, 13
// and sid), with live progress from those with --json-stream; the daemon on Node.js 16, 18 and this machine's; a Node.js too old.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseIperfVersion } from '../lib/shared/versions.js';
import { loadInventory, runMesh, type MeshEvent } from '../lib/index.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { iperf3FromDebian, nodeFromDebian, nodeFromNpm } from './helpers/versions.js';
import { schemaErrors } from './helpers/schema.js';
import { startDaemon } from './helpers/daemon.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-versions-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const sub = (name: string) => path.join(dir, name);
const suites = ['bullseye', 'trixie', 'sid'] as const;
const fetched = canRunLab ? suites.map((suite) => iperf3FromDebian(sub(`iperf3-${suite}`), suite)) : [{ skip: NO_LAB_REASON }];
const missing = fetched.map((f) => 'skip' in f && f.skip).find(Boolean);
if (missing) t.comment(`mixed-version test skipped: ${missing}`);

t.test('iperf3 3.9, 3.12, 3.18 and the newest on one mesh; live intervals from 3.17+ clients', { skip: missing }, async (t) => {
  const [old, newer, newest] = fetched as { path: string; version: string }[];
  const lab = await withLab(t, 4, '198.19.121.0/24');
  const inventory = await loadInventory(lab.inventory);
  inventory.hosts[0]!.iperf3 = old!.path;
  inventory.hosts[2]!.iperf3 = newer!.path;
  inventory.hosts[3]!.iperf3 = newest!.path;
  const own = parseIperfVersion(execFileSync('iperf3', ['--version'], { encoding: 'utf8' }))!;
  const versions: Record<string, string> = { h1: old!.version, h2: own, h3: newer!.version, h4: newest!.version };
  t.comment(`versions: ${JSON.stringify(versions)}`);
  t.equal(versions.h1, '3.9', 'the oldest supported');
  t.ok(Number(versions.h4!.split('.')[1]) >= 18, `and the newest Debian has (${versions.h4})`);
  const events: MeshEvent[] = [];
  const doc = await runMesh({ inventory, test: { duration: 3, processes: 1 }, liveIntervals: 'instance', onEvent: (e) => events.push(e) });
  t.equal(schemaErrors(doc), '');
  t.same(doc.run.hosts.map((h) => h.iperf3_version), Object.values(versions), 'each daemon reports the version it found');
  t.equal(doc.summary.pairs_ok, 12, 'every pair, whatever its versions, is measured');
  for (const [src, { destinations }] of Object.entries(doc.sources)) {
    for (const [dst, pair] of Object.entries(destinations)) {
      const i = pair.instances[0]!;
      t.same([i.client!.iperf3_version, i.server!.iperf3_version], [versions[src], versions[dst]], `${src} -> ${dst}: ${versions[src]} client, ${versions[dst]} server`);
      t.ok(i.metrics.throughput_bps! > 1e6, `${src} -> ${dst}: ${Math.round(i.metrics.throughput_bps! / 1e6)} Mbit/s`);
    }
  }

  const intervals = events.filter((e): e is Extract<MeshEvent, { type: 'interval' }> => e.type === 'interval');
  const streaming = ['h3', 'h4'].flatMap((src) => ['h1', 'h2', 'h3', 'h4'].filter((dst) => dst !== src).map((dst) => `${src}>${dst}#0`));
  t.same([...new Set(intervals.map((e) => e.id))].sort(), streaming, 'live intervals come from the --json-stream (3.17+) clients only');
  t.ok(intervals.filter((e) => e.id === 'h3>h1#0').length >= 2, 'one per second while it runs');
  // By default only each host's sum comes, once a second: no per-client event.
  const quiet: MeshEvent[] = [];
  const again = await runMesh({ inventory, test: { duration: 3, processes: 1 }, onEvent: (e) => quiet.push(e) });
  t.equal(again.summary.pairs_ok, 12);
  t.equal(quiet.filter((e) => e.type === 'interval').length, 0, 'without liveIntervals "instance", no interval events');
  t.ok(quiet.some((e) => e.type === 'test-running' && e.throughput_bps !== null && e.throughput_bps > 0), 'and the progress still carries the live throughput, from the hosts\' sums');
  t.ok(events.some((e) => e.type === 'test-running' && e.throughput_bps !== null && e.throughput_bps > 0), 'progress carries the live throughput');
  for (const id of ['h3>h1', 'h4>h1']) {
    const [src, dst] = id.split('>') as [string, string];
    const streamed = doc.sources[src]!.destinations[dst]!.instances[0]!.iperf3 as { intervals: unknown[]; end: { sum_received: unknown } };
    t.equal(streamed.intervals.length, 3, `${id}: the streamed document is reassembled: its intervals`);
    t.ok(streamed.end.sum_received, `${id}: and its summary`);
  }
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

t.test('a host whose Node.js is too old (12) gets a runtime; with push_node = "never" it is named, and the others run', { skip: 'skip' in node12 && node12.skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.123.0/24');
  const inventory = await loadInventory(lab.inventory);
  inventory.hosts[2]!.node = (node12 as { path: string }).path;
  const doc = await runMesh({ inventory, test: { duration: 1, processes: 1 } });
  t.equal(doc.summary.pairs_ok, 6, 'h3 took part');
  t.equal(doc.run.hosts[2]!.node_version, process.version, 'on a pushed runtime');
  t.ok(doc.run.hosts[2]!.ssh!.runtime_pushed_bytes! > 0);

  const never = await runMesh({ inventory: { ...inventory, runtime: { ...inventory.runtime, push_node: 'never' } }, test: { duration: 1, processes: 1 } });
  const h3 = never.run.hosts[2]!;
  t.equal(h3.error?.code, 'no_node');
  t.match(h3.error?.message, /tried \S+node12\S* on PATH=\S+: Node\.js v12\.22\.\d+, older than 16/);
  t.equal(never.sources.h1!.destinations.h2!.summary.status, 'ok');
  t.equal(never.sources.h2!.destinations.h1!.summary.status, 'ok');
  t.same(await leftovers(lab), []);
});

t.test('live progress is one message per host a second, whatever its clients; their intervals only when asked', { skip: missing }, async (t) => {
  const newest = (fetched as { path: string }[])[2]!.path;
  const ADDR = '127.0.83.1';
  for (const intervals of [false, true]) {
    const d = await startDaemon({ iperf3: newest, port_range: [7601, 7620], heartbeat_ms: 60_000 });
    t.teardown(() => d.close());
    const servers = [0, 1, 2, 3].map((k) => ({ id: `h>s#${k}`, source: 'h', destination: 's', instance: k, bind: ADDR }));
    const started = (await d.call('start_servers', { servers, hold: true })).result.servers as { port: number }[];
    const clients = started.map((s, k) => ({ id: `s>h#${k}`, source: 's', destination: 'h', instance: k, host: ADDR, port: s.port, options: { duration: 4, parallel: 1, protocol: 'tcp' } }));
    await d.call('start_clients', { clients, live: true, ...(intervals ? { intervals: true } : {}) });
    await d.call('release', { servers: servers.map((s) => s.id) });
    // Everything the daemon says while the 4 s test runs, and a little after.
    const live: { params: { clients: number; bits_per_second: number; intervals?: { id: string }[] } }[] = [];
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      const m = await Promise.race([d.next(), new Promise<null>((r) => setTimeout(() => r(null), until - Date.now()))]);
      if (m?.method === 'meshperf.host_interval') live.push(m as never);
    }
    const perClient = live.flatMap((m) => m.params.intervals ?? []);
    t.ok(live.length >= 3 && live.length <= 6, `${live.length} messages for 4 clients over 4 s, not one per client per second (16)`);
    t.ok(live.some((m) => m.params.clients === 4 && m.params.bits_per_second > 0), 'each the sum of the 4 clients');
    if (intervals) t.ok(perClient.length >= 12 && new Set(perClient.map((i) => i.id)).size === 4, `asked for: ${perClient.length} client intervals in them`);
    else t.equal(perClient.length, 0, 'not asked for: no client interval in them');
  }
});
