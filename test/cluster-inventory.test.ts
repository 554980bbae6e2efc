// Writing a cluster down: host ranges, planes, ssh_host, OpenSSH config and jump hosts, [runtime].
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InventoryError, parseInventory } from 'meshperf';
import { expandRange } from '../lib/inventory/ranges.js';
import { planeProblems, resolvePlanes } from '../lib/mesh/planes.js';
import { parseSshG } from '../lib/inventory/openssh-config.js';
import { parseHop, resolveSsh } from '../lib/transport/ssh-config.js';
import { parseProbe, platformKey } from '../lib/transport/runtime.js';

const errorOf = (text: string): string => {
  try {
    parseInventory(text, 'hosts.toml');
  } catch (e) {
    if (e instanceof InventoryError) return e.message;
    throw e;
  }
  return '';
};

t.test('host ranges expand in step, zero-padded as written', async (t) => {
  const inv = parseInventory(
    `[[hosts]]
name = "node[001-128]"
address = "10.0.1.[1-128]"
ssh_host = "node[001-128]-mgmt"
planes = { rail2 = "10.0.2.[1-128]" }
`,
  );
  t.equal(inv.hosts.length, 128);
  t.match(inv.hosts[0], { name: 'node001', address: '10.0.1.1', ssh_host: 'node001-mgmt', planes: { rail2: '10.0.2.1' } });
  t.match(inv.hosts[127], { name: 'node128', address: '10.0.1.128', ssh_host: 'node128-mgmt', planes: { rail2: '10.0.2.128' } });
  t.same(expandRange('n[1-3,7]'), ['n1', 'n2', 'n3', 'n7']);
  t.same(expandRange('n[08-10]'), ['n08', 'n09', 'n10']);
  t.same(expandRange('plain'), ['plain']);
  t.match(errorOf('[[hosts]]\nname = "n[1-4]"\naddress = "10.0.0.[1-3]"\n'), /hosts\[0\]\.address: its range gives 3 values but name's gives 4; ranges of one table expand in step/);
  t.match(errorOf('[[hosts]]\nname = "n"\naddress = "10.0.0.[1-3]"\n'), /hosts\[0\]\.name "n" needs a range too: address has a range/);
  t.match(errorOf('[[hosts]]\naddress = "10.0.0.[1-3]"\n'), /hosts\[0\]\.name is missing: address has a range, so every host of the table needs its own name \(e\.g\. name = "node\[1-3\]"\)/);
  t.match(errorOf('[[hosts]]\nname = "n[4-1]"\naddress = "10.0.0.[4-1]"\n'), /the range 4-1 is inverted/);
  // Ranges and single tables mix; a range that collides with another table is caught as a duplicate.
  t.match(errorOf('[[hosts]]\nname = "n[1-2]"\naddress = "10.0.0.[1-2]"\n[[hosts]]\nname = "n2"\naddress = "10.0.0.9"\n'), /hosts\[2\]\.name: "n2" is already used by hosts\[1\]/);
});

t.test('ssh_host defaults to address; planes and [runtime] are read and checked', async (t) => {
  const inv = parseInventory(`[runtime]
node = "/opt/node/bin/node"
push_node = "never"
linux-arm64 = "/srv/node-arm64"
[ssh]
jump = "admin@bastion:2222"
config = false
[[hosts]]
name = "a"
address = "10.0.0.1"
planes = { rail1 = "10.0.0.1", rail2 = "10.2.0.1" }
[[hosts]]
name = "b"
address = "fd00::2"
ssh_host = "b-mgmt"
jump = "other"
node = "/usr/local/bin/node"
`);
  t.equal(inv.hosts[0]!.ssh_host, '10.0.0.1');
  t.equal(inv.hosts[1]!.ssh_host, 'b-mgmt');
  t.equal(inv.hosts[0]!.node, '/opt/node/bin/node', '[runtime] node is every host\'s default');
  t.equal(inv.hosts[1]!.node, '/usr/local/bin/node', 'a host\'s own wins');
  t.match(inv.runtime, { push_node: 'never', keep_runtime: false, binaries: { 'linux-arm64': '/srv/node-arm64' } });
  t.equal(inv.hosts[0]!.ssh.jump, 'admin@bastion:2222');
  t.equal(inv.hosts[1]!.ssh.jump, 'other');
  t.equal(inv.hosts[0]!.ssh.config, null, 'config = false ignores the OpenSSH config');
  t.match(errorOf('[[hosts]]\nname = "a"\naddress = "10.0.0.1"\nplanes = { all = "10.1.0.1" }\n[[hosts]]\nname = "b"\naddress = "10.0.0.2"\n'), /planes\.all: "all" is reserved/);
  t.match(errorOf('[[hosts]]\nname = "a"\naddress = "10.0.0.1"\n[[hosts]]\nname = "b"\naddress = "10.0.0.2"\nplanes = { r = "10.0.0.1" }\n'), /"10\.0\.0\.1" is already the address of another host/);
  t.match(errorOf('[runtime]\nlinux-x86 = "/x"\n[[hosts]]\nname = "a"\naddress = "10.0.0.1"\n[[hosts]]\nname = "b"\naddress = "10.0.0.2"\n'), /runtime: unknown key "linux-x86"/);
});

t.test('--plane: names, "all", and what a plane cannot mix', async (t) => {
  const inv = parseInventory(`[[hosts]]
name = "a"
address = "10.0.0.1"
planes = { r1 = "10.1.0.1", ll = "fe80::1%eth1" }
[[hosts]]
name = "b"
address = "10.0.0.2"
planes = { r1 = "fd00::2", ll = "fe80::2%eth2" }
[[hosts]]
name = "c"
address = "10.0.0.3"
planes = { ll = "fe80::3" }
`);
  t.same(resolvePlanes(inv.hosts, undefined), ['default']);
  t.same(resolvePlanes(inv.hosts, ['all']), ['r1', 'll']);
  t.same(resolvePlanes(inv.hosts, ['default,r1']), ['default', 'r1']);
  t.match(resolvePlanes(inv.hosts, ['r9']), /--plane r9: no host has a plane "r9"; the planes are "default", "r1", "ll"/);
  t.same(planeProblems(inv.hosts, ['default']), [], 'the default plane is all IPv4');
  const problems = planeProblems(inv.hosts, ['r1', 'll']).join('\n');
  t.match(problems, /plane "r1" mixes address families: IPv4 a \(10\.1\.0\.1\) cannot reach IPv6 b \(fd00::2\)/);
  t.match(problems, /c: fe80::3 on plane "ll" is link-local and needs its interface/);
  t.match(problems, /plane "ll": link-local addresses name different interfaces \(eth1, eth2\)/);
});

t.test('OpenSSH client config, read by ssh -G: aliases, first value wins, Include, jump hosts; the inventory wins', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-sshcfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'config');
  writeFileSync(path.join(dir, 'extra.conf'), 'Host gpu*\n  Port 2200\n  User ops\n');
  writeFileSync(
    config,
    `Include ${dir}/extra.conf
Host gpu01
  HostName 198.18.9.1
  Port 2201
  ProxyJump jumper,admin@[2001:2::9]:2022
  IdentityFile ${dir}/id_gpu
  IdentitiesOnly yes
  UserKnownHostsFile ${dir}/kh
  StrictHostKeyChecking accept-new
  ConnectTimeout 7
Host jumper
  HostName 198.18.9.254
  User hop
Host *
  User everyone
`,
  );
  const inv = parseInventory(`[ssh]\nconfig = "${config}"\n[[hosts]]\nname = "g"\naddress = "10.0.0.1"\nssh_host = "gpu01"\n[[hosts]]\nname = "h"\naddress = "10.0.0.2"\nssh_host = "gpu02"\nuser = "root"\n`);
  const g = await resolveSsh(inv.hosts[0]!);
  t.match(g, { host: '198.18.9.1', port: 2200, user: 'ops', identityFiles: [`${dir}/id_gpu`], useAgent: false, knownHosts: `${dir}/kh`, acceptNew: true, connectTimeout: 7 }, 'the Include came first, so its Port and User win');
  t.match(g.jump, [{ host: '198.18.9.254', user: 'hop', port: 22 }, { host: '2001:2::9', user: 'admin', port: 2022 }]);
  const h = await resolveSsh(inv.hosts[1]!);
  t.match(h, { host: 'gpu02', port: 2200, user: 'root', jump: [] }, 'the inventory\'s user wins over the config\'s');
  t.same(parseHop('bastion'), { host: 'bastion' });
  t.same(parseHop('u@[fd00::1]:2200'), { user: 'u', host: 'fd00::1', port: 2200 });
  t.same(parseHop('fd00::1'), { host: 'fd00::1' });
  t.match(parseSshG('hostname x\nport 22\nproxyjump none\n'), { hostname: 'x', proxyJump: null });
});

t.test('the node probe: what it reports, and the platforms', async (t) => {
  t.same(parseProbe('node=/usr/bin/node\n'), { node: '/usr/bin/node', tried: [], platform: null });
  t.same(parseProbe('tried=node on PATH=/bin: not found\nplatform=Linux aarch64\n'), { node: null, tried: ['node on PATH=/bin: not found'], platform: 'Linux aarch64' });
  t.equal(platformKey('Linux x86_64'), 'linux-x64');
  t.equal(platformKey('Linux aarch64'), 'linux-arm64');
  t.equal(platformKey('Darwin arm64'), 'darwin-arm64');
});

t.test('the cluster examples of README.md and docs/inventory.md are valid inventories', async (t) => {
  const { readFileSync } = await import('node:fs');
  for (const file of ['README.md', 'docs/inventory.md']) {
    const blocks = [...readFileSync(file, 'utf8').matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('rail1'));
    t.ok(blocks.length > 0, `${file} has a cluster example`);
    for (const b of blocks) {
      const inv = parseInventory(b, file);
      t.ok(inv.hosts.length >= 2 && inv.hosts.every((h) => h.ssh_host !== h.address && Object.keys(h.planes).length === 2), `${file}: ${inv.hosts.length} hosts, SSH apart from data, two rails`);
      t.same(resolvePlanes(inv.hosts, ['all']), ['rail1', 'rail2']);
    }
  }
});

t.test('NUMA placement: cores of the NIC\'s node when the host\'s cpus allow, else all allowed', async (t) => {
  const { coresNear } = await import('../lib/daemon/numa.js');
  t.same(coresNear([0, 1, 2, 3, 8, 9], { cpus: [8, 9, 10, 11] }), [8, 9], 'the allowed cores on the NIC\'s node');
  t.same(coresNear([0, 1, 2, 3], { cpus: [8, 9] }), [0, 1, 2, 3], 'none allowed there: placement is a preference');
  t.same(coresNear([0, 1], null), [0, 1], 'unknown node (virtual NIC): all allowed');
});

t.test('an Ansible inventory (INI or YAML) is read as the hosts of a mesh', async (t) => {
  const { loadInventory } = await import('meshperf');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-ansible-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ini = path.join(dir, 'hosts.ini');
  writeFileSync(
    ini,
    `# a cluster as Ansible knows it
[gpu]
gpu[01:03]
gpu04:2222 ansible_host=10.9.0.4 meshperf_address=10.1.0.4 meshperf_plane_rail2=10.2.0.4

[gpu:vars]
ansible_user=ops

[cluster:children]
gpu

[all:vars]
ansible_user=nobody
ansible_ssh_private_key_file=/keys/cluster
`,
  );
  const inv = await loadInventory(ini);
  t.same(inv.hosts.map((h) => h.name), ['gpu01', 'gpu02', 'gpu03', 'gpu04']);
  t.match(inv.hosts[3], { name: 'gpu04', ssh_host: '10.9.0.4', address: '10.1.0.4', planes: { rail2: '10.2.0.4' }, labels: ['cluster', 'gpu'], ssh: { user: 'ops', port: 2222, identity_file: '/keys/cluster' } }, 'a group\'s vars over all\'s; the host\'s own over both');
  t.match(inv.hosts[0], { ssh_host: 'gpu01', address: 'gpu01', planes: {}, labels: ['cluster', 'gpu'] }, 'without ansible_host, the name is the SSH target and the address');
  const err = await loadInventory(ini.replace('hosts.ini', 'bad.ini')).catch((e) => e);
  t.match(err.message, /cannot read the inventory/);

  const yml = path.join(dir, 'hosts.yml');
  writeFileSync(
    yml,
    `all:
  vars:
    ansible_port: 22
  children:
    rack1:
      hosts:
        n1: { ansible_host: 10.0.0.1 }
        n2: { ansible_host: 10.0.0.2, ansible_port: 2200 }
      vars:
        ansible_user: root
`,
  );
  const y = await loadInventory(yml);
  t.match(y.hosts, [
    { name: 'n1', ssh_host: '10.0.0.1', address: '10.0.0.1', labels: ['rack1'], ssh: { user: 'root', port: 22 } },
    { name: 'n2', ssh_host: '10.0.0.2', ssh: { port: 2200 } },
  ]);
  writeFileSync(yml, 'all:\n  hosts:\n    "bad name!": {}\n    ok1: {}\n');
  t.match((await loadInventory(yml).catch((e) => e)).message, /hosts\[0\] \("bad name!"\)\.name: "bad name!" is not allowed/, 'checked like any inventory, naming the host');
});

t.test('[discover] ssh_config: the Host aliases of an OpenSSH config that match a pattern are the hosts', async (t) => {
  const { loadInventory } = await import('meshperf');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-discover-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'rack2.conf'), 'Host gpu03\n  HostName 198.18.5.3\n');
  // Include at the top, as OpenSSH reads it there for every host (inside a Host block it is conditional).
  writeFileSync(path.join(dir, 'config'), `Include ${dir}/rack*.conf\nHost gpu01 gpu02\n  User root\nHost gpu01\n  HostName 198.18.5.1\nHost gpu02\n  HostName 198.18.5.2\nHost gpu* cpu01\n  Port 22\n`);
  const file = path.join(dir, 'hosts.toml');
  writeFileSync(file, `[ssh]\nconfig = "${dir}/config"\n[discover]\nssh_config = "gpu*"\n[[hosts]]\nname = "gpu02"\naddress = "10.1.0.2"\nssh_host = "gpu02"\n`);
  const inv = await loadInventory(file);
  t.same(inv.hosts.map((h) => [h.name, h.ssh_host, h.address]), [['gpu02', 'gpu02', '10.1.0.2'], ['gpu03', 'gpu03', '198.18.5.3'], ['gpu01', 'gpu01', '198.18.5.1']], 'Included files count; a listed host keeps its own values; cpu01 does not match');
  writeFileSync(file, `[ssh]\nconfig = "${dir}/config"\n[discover]\nssh_config = "tpu*"\n`);
  t.match((await loadInventory(file).catch((e) => e)).message, /discover\.ssh_config: "tpu\*" matches no Host alias of/);
});

t.test('problems of a [[hosts]] table name its line, ranged tables included', async (t) => {
  const text = `[test]\nduration = 5\n\n[[hosts]]\nname = "n[1-2]"\naddress = "10.0.0.[1-2]"\n\n[[hosts]]\nname = "bad one"\naddress = "10.0.0.9"\n\n[[hosts]]\nname = "n3"\nadress = "10.0.0.3"\n`;
  const message = errorOf(text);
  t.match(message, /line 8: hosts\[2\] \("bad one"\)\.name: "bad one" is not allowed/, 'the third host is the second table, at line 8');
  t.match(message, /line 12: hosts\[3\] \("n3"\): unknown key "adress"; did you mean "address"\?/);
});

t.test('the node probe finds a node set only for interactive shells (nvm after .bashrc\'s early return)', { skip: !existsSync('/bin/bash') && 'needs bash' }, async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { chmodSync, mkdirSync, symlinkSync } = await import('node:fs');
  const { probeScript } = await import('../lib/transport/runtime.js');
  const home = mkdtempSync(path.join(os.tmpdir(), 'meshperf-probe-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(path.join(home, 'old'));
  mkdirSync(path.join(home, 'nvm'));
  writeFileSync(path.join(home, 'old', 'node'), '#!/bin/sh\nprintf 12.22.0\n');
  chmodSync(path.join(home, 'old', 'node'), 0o755);
  symlinkSync(process.execPath, path.join(home, 'nvm', 'node'));
  // A login shell gets the old node first; only an interactive one reaches the nvm lines.
  writeFileSync(path.join(home, '.bash_profile'), `export PATH=${home}/old:$PATH\n`);
  writeFileSync(path.join(home, '.bashrc'), `case $- in *i*) ;; *) return;; esac\nexport PATH=${home}/nvm:$PATH\n`);
  const out = execFileSync('sh', ['-c', probeScript('node')], { encoding: 'utf8', env: { HOME: home, SHELL: '/bin/bash', PATH: `${home}/old:/usr/bin:/bin` } });
  const probe = parseProbe(out);
  t.equal(probe.node, path.join(home, 'nvm', 'node'), 'found through the interactive shell');
  t.match(probe.tried.join('; '), new RegExp(`node on PATH=.*: Node\\.js v12\\.22\\.0, older than 16; the login shell /bin/bash -l: ${home}/old/node: Node\\.js v12\\.22\\.0, older than 16`), 'and says what it tried before');
});
