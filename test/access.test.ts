// Reaching hosts as real clusters require: only through a bastion, named only by the aliases of
// an OpenSSH config with ProxyJump; and hosts whose `node` does not run, which get one pushed.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadInventory, runMesh, type MeshEvent } from 'meshperf';
import { hostFiles } from '../lib/lab/lab.js';
import { canRunLab, filesOnHost, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

const skip = !canRunLab && NO_LAB_REASON;
const inNs = (ns: string, ...cmd: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });

t.test('hosts behind a bastion, named only by OpenSSH config aliases with ProxyJump', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.170.0/24', { rails: 1, bastion: true });
  const b = lab.network.bastion!;
  const inventory = await loadInventory(lab.inventory);
  t.same(inventory.hosts.map((h) => h.ssh_host), ['h1', 'h2', 'h3'], 'the inventory names hosts by alias only');
  t.match(readFileSync(lab.sshConfig!, 'utf8'), /ProxyJump bastion/);
  // The management network is not reachable from here: only the bastion is.
  t.throws(() => execFileSync('ssh', ['-F', '/dev/null', '-o', 'ConnectTimeout=2', '-o', 'BatchMode=yes', `root@${lab.network.hosts[0]!.address}`, 'true'], { stdio: 'pipe' }), 'no direct way to a host');

  let bastionSessions = -1;
  const doc = await runMesh({
    inventory,
    test: { duration: 2 },
    onEvent: (e: MeshEvent) => {
      // While the test runs: how many SSH connections does the bastion hold from the controller?
      if (e.type === 'clients-started' && bastionSessions < 0) {
        bastionSessions = inNs(b.namespace, 'ss', '-Htn', 'state', 'established', 'sport = :22', 'and', `dst ${b.front}`).trim().split('\n').filter(Boolean).length;
      }
    },
  });
  t.equal(doc.summary.pairs_ok, 6, 'all pairs measured through the bastion');
  t.equal(bastionSessions, 1, 'the three hosts share one connection to the bastion');
  t.equal(schemaErrors(doc), '');
  for (const h of doc.run.hosts) {
    const lh = lab.network.hosts.find((x) => x.name === h.name)!;
    t.match(h.ssh, { host: lh.address, user: 'root', port: 22, jump: [`root@${b.address}:22`] }, `${h.name}: resolved through the config, jumped via the bastion`);
  }
  t.same(await leftovers(lab), [], 'nothing left running');

  t.test('a jump host that fails is named as the cause for every host behind it', async (t) => {
    // Its key no longer matches: it is checked like any host's.
    const kh = path.join(lab.dir, 'known_hosts');
    const original = readFileSync(kh, 'utf8');
    t.teardown(() => writeFileSync(kh, original));
    writeFileSync(kh, original.split('\n').filter((l) => !l.startsWith(b.address)).join('\n'));
    const doc = await runMesh({ inventory, test: { duration: 1 } });
    t.equal(doc.summary.hosts_failed, 3);
    for (const h of doc.run.hosts) {
      t.equal(h.error?.code, 'jump_failed');
      t.match(h.error?.message, new RegExp(`jump host root@${b.address.replace(/\./g, '\\.')}:22 failed: .*host key .* is not in`), `${h.name} names the bastion and why`);
    }
  });
});

t.test('a host whose node does not run gets a runtime pushed, and keeps no file and no process', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.172.0/24', { noNode: 1 });
  const h3 = lab.network.hosts[2]!;
  t.equal(execFileSync('ssh', ['-F', '/dev/null', '-i', path.join(lab.dir, 'id_ed25519'), '-o', `UserKnownHostsFile=${lab.dir}/known_hosts`, `root@${h3.address}`, 'node -e 1; echo $?'], { encoding: 'utf8' }).trim(), '1', 'h3\'s node is there and does not run');
  const before = filesOnHost(lab);
  const inventory = await loadInventory(lab.inventory);
  const events: MeshEvent[] = [];
  const doc = await runMesh({ inventory, test: { duration: 1 }, onEvent: (e) => events.push(e) });

  t.equal(doc.summary.pairs_ok, 6, 'h3 took part with default settings');
  const pushed = events.filter((e) => e.type === 'host-runtime');
  t.same(pushed.map((e) => e.type === 'host-runtime' && e.host), ['h3'], 'only h3 got a runtime');
  const bytes = doc.run.hosts.find((h) => h.name === 'h3')!.ssh!.runtime_pushed_bytes!;
  t.ok(bytes > 1e6 && bytes < readFileSync(process.execPath).length, `it went compressed: ${(bytes / 1e6).toFixed(1)} MB`);
  t.equal(doc.run.hosts.find((h) => h.name === 'h3')!.node_version, process.version, 'the daemon ran on the pushed runtime');
  t.same([...filesOnHost(lab)].filter((f) => !before.has(f)), [], 'no file left on the host');
  t.same(readdirSync(os.tmpdir()).filter((f) => f.startsWith('meshperf-node.')), [], 'no runtime directory left');
  t.same(await leftovers(lab), [], 'no process left');

  t.test('push_node = "never" keeps the no_node failure, saying what was tried', async (t) => {
    const doc = await runMesh({ inventory: { ...inventory, runtime: { ...inventory.runtime, push_node: 'never' } }, test: { duration: 1 } });
    const h = doc.run.hosts.find((x) => x.name === 'h3')!;
    t.equal(h.error?.code, 'no_node');
    t.match(h.error?.message, /tried node on PATH=.*: it does not run; the login shell \S+ -l: \/usr\/bin\/node: it does not run/);
  });

  t.test('keep_runtime caches it by content hash: the next run pushes nothing', async (t) => {
    // Each lab host has a home of its own: h3's cache is there, and goes with the lab.
    const cache = path.join(hostFiles(lab.dir, 'h3').home, '.cache', 'meshperf');
    const keep = { ...inventory, runtime: { ...inventory.runtime, keep_runtime: true } };
    const first = await runMesh({ inventory: keep, test: { duration: 1 } });
    const second = await runMesh({ inventory: keep, test: { duration: 1 } });
    const h3of = (d: typeof first) => d.run.hosts.find((x) => x.name === 'h3')!;
    t.ok(h3of(first).ssh!.runtime_pushed_bytes! > 1e6, 'the first run pushed it');
    t.equal(h3of(second).ssh!.runtime_pushed_bytes, 0, 'the second found it cached');
    t.equal(second.summary.pairs_ok, 6);
    t.ok(readdirSync(cache).some((f) => /^node-[0-9a-f]{64}$/.test(f)), 'cached under h3\'s ~/.cache/meshperf by sha256');
  });
});

t.test('IPv6: a jump host written [addr]:port, and IPv6 data addresses', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.174.0/24', { rails: 1, ipv6: true, bastion: true });
  const b = lab.network.bastion!;
  t.ok(b.address6, 'the bastion has an IPv6 front address');
  const toml = [
    '[ssh]',
    'user = "root"',
    `identity_file = "${lab.dir}/id_ed25519"`,
    `known_hosts = "${lab.dir}/known_hosts"`,
    'config = false',
    `jump = "root@[${b.address6}]:22"`,
    '',
    ...lab.network.hosts.flatMap((h) => ['[[hosts]]', `name = "${h.name}"`, `ssh_host = "${h.address}"`, `address = "${h.rails[0]!.address}"`, '']),
  ].join('\n');
  writeFileSync(lab.inventory, toml);
  const doc = await runMesh({ inventory: await loadInventory(lab.inventory), test: { duration: 1 } });
  t.equal(doc.summary.pairs_ok, 6, 'every pair measured over IPv6, reached through the IPv6 jump host');
  t.same(doc.run.hosts[0]!.ssh?.jump, [`root@[${b.address6}]:22`]);
  t.match(doc.sources.h2!.destinations.h3!.instances[0]!.client!.address, /^2001:2:/);
  t.same(await leftovers(lab), [], 'nothing left running');
});
