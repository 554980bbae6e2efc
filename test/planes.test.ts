// Clusters laid out like real ones: sshd only on a management network, the data on rails of their
// own (IPv4 or IPv6). The bytes are counted by the kernel, independently of meshperf.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { InventoryError, loadInventory, runMesh, type MeshEvent } from 'meshperf';
import { parseProcNetDev } from '../lib/daemon/interfaces.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

const skip = !canRunLab && NO_LAB_REASON;
const inNs = (ns: string, ...cmd: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });
const txBytes = (ns: string) => new Map([...parseProcNetDev(inNs(ns, 'cat', '/proc/net/dev'))].map(([k, v]) => [k, v.tx]));

t.test('data over the rail, SSH over management: the kernel sees the test bytes on the rail only', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.150.0/24', { rails: 1 });
  const h1 = lab.network.hosts[0]!;
  // sshd listens on the management address and nowhere else.
  const listening = inNs(h1.namespace, 'ss', '-Hltn', 'sport = :22').trim().split('\n').map((l) => l.trim().split(/\s+/)[3]);
  t.same(listening, [`${h1.address}:22`], 'sshd listens only on the management address');

  const inventory = await loadInventory(lab.inventory);
  const before = lab.network.hosts.map((h) => txBytes(h.namespace));
  const doc = await runMesh({ inventory, test: { duration: 2 } });
  const after = lab.network.hosts.map((h) => txBytes(h.namespace));

  t.equal(doc.summary.pairs_ok, 6, 'all 6 pairs ok over the rail');
  t.same(doc.run.parameters.planes, ['default']);
  t.equal(schemaErrors(doc), '');
  for (const [k, h] of lab.network.hosts.entries()) {
    // What its peers received: bytes that crossed the wire (iperf3's bytes_sent also counts what was
    // still in the socket's buffer when the test ended, up to a few MB, and never left).
    const sent = Object.values(doc.sources[h.name]!.destinations).flatMap((p) => p.instances).reduce((a, i) => a + (i.metrics.bytes_received ?? 0), 0);
    const rail = after[k]!.get('eth1')! - before[k]!.get('eth1')!;
    const mgmt = after[k]!.get('eth0')! - before[k]!.get('eth0')!;
    t.ok(sent > 50e6, `${h.name} sent ${Math.round(sent / 1e6)} MB`);
    t.ok(rail >= sent, `${h.name}: the rail (eth1) carried ${Math.round(rail / 1e6)} MB, at least what its peers received`);
    t.ok(mgmt < sent / 50, `${h.name}: management (eth0) carried ${Math.round(mgmt / 1e3)} kB, next to nothing`);
    const host = doc.run.hosts.find((x) => x.name === h.name)!;
    t.equal(host.ssh_host, h.address, 'SSH went to the management address');
    t.equal(host.ssh?.ip, h.address);
    t.equal(host.ssh?.user, 'root');
    const nic = host.interfaces?.[0];
    t.match(nic, { plane: 'default', address: h.rails[0]!.address, name: 'eth1', mtu: 1500 }, 'the test interface is named with its MTU');
    t.ok(nic!.tx_bytes! >= sent && nic!.tx_bytes! <= rail, 'results hold the rail\'s byte counter over the test');
  }
  t.same(doc.run.warnings, [], 'nothing to warn about');

  t.test('an MTU that differs on the plane is warned about before the test', async (t) => {
    inNs(lab.network.hosts[1]!.namespace, 'ip', 'link', 'set', 'eth1', 'mtu', '1400');
    const events: MeshEvent[] = [];
    const doc = await runMesh({ inventory, test: { duration: 1 }, onEvent: (e) => events.push(e) });
    const warning = events.findIndex((e) => e.type === 'warning');
    t.ok(warning >= 0 && warning < events.findIndex((e) => e.type === 'servers-listening'), 'warned before any server started');
    t.match(doc.run.warnings.join('\n'), /plane "default": interface MTUs differ \(1400 on h2; 1500 on h1, h3\)/);
    inNs(lab.network.hosts[1]!.namespace, 'ip', 'link', 'set', 'eth1', 'mtu', '1500');
  });

  t.test('traffic routed through management instead of the rail is named', async (t) => {
    // The classic mistake: h1 reaches the rail's subnet through its management interface (the
    // peers answer ARP for their rail addresses on any interface, as Linux does by default).
    const ns = lab.network.hosts[0]!.namespace;
    inNs(ns, 'ip', 'route', 'replace', '198.19.151.0/24', 'dev', 'eth0', 'src', '198.19.151.11');
    t.teardown(() => void inNs(ns, 'ip', 'route', 'replace', '198.19.151.0/24', 'dev', 'eth1', 'src', '198.19.151.11'));
    const doc = await runMesh({ inventory, test: { duration: 2 } });
    t.equal(doc.summary.pairs_ok, 6, 'it still measures');
    t.match(doc.run.warnings.join('\n'), /h1: iperf3 sent [\d.]+ MB on plane "default", but its interface eth1 \(198\.19\.151\.11\) transmitted only [\d.]+ MB; eth0 sent/);
  });
  t.test('data addresses written as names are resolved on the hosts, as iperf3 resolves them', async (t) => {
    const named = { ...inventory, hosts: inventory.hosts.map((h) => ({ ...h, address: `${h.name}-rail1` })) };
    const doc = await runMesh({ inventory: named, test: { duration: 1 } });
    t.equal(doc.summary.pairs_ok, 6);
    t.same(doc.run.warnings, []);
    for (const [k, h] of doc.run.hosts.entries()) {
      t.match(h.interfaces?.[0], { address: `${h.name}-rail1`, ip: lab.network.hosts[k]!.rails[0]!.address, name: 'eth1' }, `${h.name}-rail1 resolved on ${h.name} to its rail address`);
      t.ok(h.interfaces![0]!.tx_bytes! > 1e6, 'and its counters read');
    }
  });

  t.test('the same cluster from an Ansible inventory: ansible_host for SSH, meshperf_address for data, groups as labels', async (t) => {
    const ini = `${lab.tmp}/hosts.ini`;
    writeFileSync(
      ini,
      ['[rack]', ...lab.network.hosts.map((h) => `${h.name} ansible_host=${h.address} meshperf_address=${h.rails[0]!.address}`), '', '[rack:vars]', 'ansible_user=root', `ansible_ssh_private_key_file=${lab.dir}/id_ed25519`, ''].join('\n'),
    );
    const fromAnsible = await loadInventory(ini);
    // known_hosts is not an Ansible variable: a library user sets it like this.
    for (const h of fromAnsible.hosts) h.ssh.known_hosts = `${lab.dir}/known_hosts`;
    const doc = await runMesh({ inventory: fromAnsible, test: { duration: 1 } });
    t.equal(doc.summary.pairs_ok, 6);
    t.same(doc.run.hosts.map((h) => h.labels), [['rack'], ['rack'], ['rack']]);
    t.equal(doc.sources.h1!.destinations.h2!.instances[0]!.server!.address, lab.network.hosts[1]!.rails[0]!.address, 'measured over the rail');
  });
  t.same(await leftovers(lab), [], 'nothing left running');
});

t.test('two rails measured in one synchronized run, pairs only within a rail', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.153.0/24', { rails: 2 });
  // h3 has no second rail: it is left out of rail2 only.
  const text = readFileSync(lab.inventory, 'utf8').replace(/, rail2 = "198\.19\.155\.13"/, '');
  writeFileSync(lab.inventory, text);
  const inventory = await loadInventory(lab.inventory);
  const doc = await runMesh({ inventory, test: { duration: 2 }, planes: ['all'], out: `${lab.tmp}/out` });

  t.same(doc.run.parameters.planes, ['rail1', 'rail2']);
  t.equal(doc.run.rounds.length, 1, 'one round: both rails at once');
  t.equal(doc.summary.instances, 6 + 2, '6 pairs on rail1, 2 on rail2 (h1 and h2 only)');
  t.equal(doc.summary.instances_ok, 8);
  t.equal(schemaErrors(doc), '');
  const prefix = { rail1: '198.19.154.', rail2: '198.19.155.' } as const;
  for (const [src, { destinations }] of Object.entries(doc.sources)) {
    for (const [dst, pair] of Object.entries(destinations)) {
      t.not(src, dst, 'never host to itself');
      for (const i of pair.instances) {
        const p = prefix[i.plane as 'rail1' | 'rail2'];
        t.ok(i.client!.address.startsWith(p) && i.server!.address.startsWith(p), `${src}>${dst} on ${i.plane}: both ends bound to ${p}x`);
        const local = (i.iperf3 as { start: { connected: { local_host: string; remote_host: string }[] } }).start.connected[0]!;
        t.ok(local.local_host.startsWith(p) && local.remote_host.startsWith(p), 'iperf3 itself says so');
      }
    }
  }
  const h1h2 = doc.sources.h1!.destinations.h2!.summary;
  t.same(Object.keys(h1h2.planes ?? {}), ['rail1', 'rail2'], 'a pair on both rails has a sub-summary per rail');
  t.equal(h1h2.throughput_bps, h1h2.planes!.rail1!.throughput_bps + h1h2.planes!.rail2!.throughput_bps);
  t.same(Object.keys(doc.sources.h1!.destinations.h3!.summary.planes ?? {}), ['rail1'], 'h3 only on rail1');
  const starts = Object.values(doc.sources).flatMap((s) => Object.values(s.destinations)).flatMap((p) => p.instances).map((i) => Date.parse(i.started_at!));
  t.ok(Math.max(...starts) - Math.min(...starts) < 500, 'both rails started together');
  const csv = readFileSync(`${lab.tmp}/out/results.csv`, 'utf8').trim().split('\n');
  const col = csv[0]!.split(',').indexOf('plane');
  t.ok(col > 0, 'results.csv has a plane column');
  t.same([...new Set(csv.slice(1).map((r) => r.split(',')[col]))].sort(), ['rail1', 'rail2']);

  t.test('a plane that mixes IPv4 and IPv6 is refused before connecting, naming the hosts', async (t) => {
    writeFileSync(lab.inventory, readFileSync(lab.inventory, 'utf8').replace('rail2 = "198.19.155.12"', 'rail2 = "2001:2:0:9b2::12"'));
    const inv = await loadInventory(lab.inventory);
    const events: MeshEvent[] = [];
    const err = await runMesh({ inventory: inv, planes: ['rail2'], onEvent: (e) => events.push(e) }).catch((e) => e);
    t.type(err, InventoryError);
    t.match(err.message, /plane "rail2" mixes address families: IPv4 h1 \(198\.19\.155\.11\) cannot reach IPv6 h2 \(2001:2:0:9b2::12\)/);
    t.same(events, [], 'no host was even connected to');
  });
  t.same(await leftovers(lab), [], 'nothing left running');
});

t.test('an IPv6 data rail under IPv4 management', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.157.0/24', { rails: 1, ipv6: true });
  const inventory = await loadInventory(lab.inventory);
  t.match(inventory.hosts[0]!.address, /^2001:2:0:/);
  const doc = await runMesh({ inventory, test: { duration: 1 } });
  t.equal(doc.summary.pairs_ok, 6, 'all pairs ok over IPv6');
  const i = doc.sources.h1!.destinations.h2!.instances[0]!;
  t.equal(i.server!.address, lab.network.hosts[1]!.rails[0]!.address);
  const connected = (i.iperf3 as { start: { connected: { remote_host: string }[] } }).start.connected[0]!;
  t.equal(connected.remote_host, lab.network.hosts[1]!.rails[0]!.address, 'iperf3 connected over IPv6');
  t.equal(doc.run.hosts[0]!.ssh?.ip, lab.network.hosts[0]!.address, 'SSH went over IPv4');

  t.test('and SSH over IPv6 too: management addresses as the SSH targets', async (t) => {
    const v6 = { ...inventory, hosts: inventory.hosts.map((h, k) => ({ ...h, ssh_host: lab.network.hosts[k]!.address6! })) };
    const doc = await runMesh({ inventory: v6, test: { duration: 1 } });
    t.equal(doc.summary.pairs_ok, 6);
    t.match(doc.run.hosts[1]!.ssh, { host: lab.network.hosts[1]!.address6, ip: lab.network.hosts[1]!.address6, port: 22 }, 'SSH went to the IPv6 address, its key found in known_hosts');
  });
  t.same(await leftovers(lab), [], 'nothing left running');
});
