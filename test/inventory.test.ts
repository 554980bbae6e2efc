import t from 'tap';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InventoryError, loadInventory, parseInventory } from '../lib/inventory/load.js';

const HOSTS = `
[[hosts]]
name = "h1"
address = "198.18.0.11"
[[hosts]]
name = "h2"
address = "198.18.0.12"
`;

function problems(text: string): string {
  try {
    parseInventory(text, 'hosts.toml');
  } catch (err) {
    if (err instanceof InventoryError) return err.message;
    throw err;
  }
  throw new Error('expected an InventoryError');
}

t.test('the example inventory loads with its defaults filled in', async (t) => {
  const inv = parseInventory(readFileSync(new URL('../inventory.example.toml', import.meta.url), 'utf8'));
  t.equal(inv.hosts.length, 3);
  t.equal(inv.hosts[0]!.ssh.user, 'root');
  t.equal(inv.hosts[0]!.ssh.known_hosts, path.join(os.homedir(), '.ssh/known_hosts'), '~ is expanded');
  t.same(inv.test.port_range, [5201, 5999]);
  t.equal(inv.hosts[2]!.ssh.port, 2222, 'a host overrides the [ssh] port');
  t.equal(inv.hosts[0]!.ssh.port, 22);
});

t.test('defaults when [ssh] and [test] are absent', async (t) => {
  const inv = parseInventory(HOSTS);
  t.same(inv.test, { duration: 10, parallel: 1, processes: 'auto', port_range: [5201, 5999], protocol: 'tcp', reverse: false, bidir: false, schedule: 'all' });
  t.equal(inv.hosts[0]!.iperf3, 'iperf3');
  t.equal(inv.transport, 'ssh');
});

t.test('a TOML syntax error names the file, line and column', async (t) => {
  t.match(problems('[test]\nduration = = 3\n' + HOSTS), /^hosts\.toml: line 2, column \d+: TOML syntax error/);
});

t.test('schema errors name the host and field and say what is allowed', async (t) => {
  const bad = HOSTS.replace('address = "198.18.0.12"', 'address = "198.18.0.12; rm -rf /"');
  t.match(problems(bad), /hosts\[1\] \("h2"\)\.address: "198\.18\.0\.12; rm -rf \/" is not allowed; use an IP address or DNS name/);
  t.match(problems(HOSTS.replace('name = "h1"', 'name = "h 1"')), /hosts\[0\] \("h 1"\)\.name: "h 1" is not allowed; use letters, digits and \. _ -/);
  t.match(problems(HOSTS.replace('name = "h1"', 'name = "h1\\u0007"')), /hosts\[0\] .*\.name: "h1\\u0007" is not allowed/);
  t.match(problems(HOSTS.replace('address = "198.18.0.11"', 'address = "$(reboot)"')), /hosts\[0\] \("h1"\)\.address: "\$\(reboot\)" is not allowed/);
  t.match(problems(HOSTS + 'iperf3 = "/usr/bin/iperf3 -c evil"\n'), /hosts\[1\] \("h2"\)\.iperf3: "\/usr\/bin\/iperf3 -c evil" is not allowed; use an absolute path/);
  t.match(problems('[test]\nprocesses = "many"\n' + HOSTS), /test\.processes: must be "auto" or a whole number from 1 to 256/);
  t.match(problems('[test]\nduration = 0\n' + HOSTS), /test\.duration: must be >= 1/);
  t.match(problems('[[hosts]]\nname = "h1"\naddress = "198.18.0.11"\n'), /hosts: needs at least 2 hosts/);
  t.match(problems('[[hosts]]\nname = "h1"\n[[hosts]]\nname = "h2"\naddress = "x"\n'), /hosts\[0\] \("h1"\): missing required key "address"/);
});

t.test('unknown keys get a "did you mean"', async (t) => {
  t.match(problems('[test]\nduraton = 5\n' + HOSTS), /test: unknown key "duraton"; did you mean "duration"\?/);
  t.match(problems('[ssh]\nidentityfile = "x"\n' + HOSTS), /ssh: unknown key "identityfile"; did you mean "identity_file"\?/);
  t.match(problems('[test]\nzzz = 1\n' + HOSTS), /unknown key "zzz"; allowed: duration, parallel, processes, port_range/);
});

t.test('port ranges: inverted, out of bounds, malformed', async (t) => {
  t.match(problems('[test]\nport_range = "5999-5201"\n' + HOSTS), /test\.port_range: "5999-5201" is inverted: write the lower port first \("5201-5999"\)/);
  t.match(problems('[test]\nport_range = "0-100"\n' + HOSTS), /must lie within 1-65535/);
  t.match(problems('[test]\nport_range = "5201"\n' + HOSTS), /test\.port_range: "5201" is not allowed; use a range like "5201-5999"/);
});

t.test('duplicate names and addresses are refused', async (t) => {
  const dup = HOSTS + '[[hosts]]\nname = "h1"\naddress = "198.18.0.12"\n';
  const msg = problems(dup);
  t.match(msg, /hosts\[2\]\.name: "h1" is already used by hosts\[0\]/);
  t.match(msg, /hosts\[2\]\.address: "198\.18\.0\.12" is already used by hosts\[1\]/);
});

t.test('a missing file is named', async (t) => {
  await t.rejects(loadInventory('/nonexistent/hosts.toml'), /\/nonexistent\/hosts\.toml: cannot read the inventory: ENOENT/);
});

t.test('measurement options, per-host overrides and limits', async (t) => {
  const inv = parseInventory(`
[test]
protocol = "udp"
bitrate = "1.5G"
window = "256K"
schedule = "rounds"
omit = 2
dscp = 46
[[hosts]]
name = "h1"
address = "198.18.0.11"
cpus = "0,2-3"
max_processes = 8
[hosts.test]
bitrate = "100M"
[[hosts]]
name = "h2"
address = "198.18.0.12"
`);
  t.equal(inv.test.bitrate, 1.5e9, 'rates in powers of 1000');
  t.equal(inv.test.window, 262144, 'sizes in powers of 1024');
  t.equal(inv.test.schedule, 'rounds');
  t.same(inv.hosts[0]!.cpus, [0, 2, 3]);
  t.equal(inv.hosts[0]!.max_processes, 8);
  t.same(inv.hosts[0]!.test, { bitrate: 100e6 });
  t.match(problems('[test]\nbitrate = "fast"\n' + HOSTS), /test\.bitrate: must be bits per second per process: a number, or one with K, M or G \(e\.g\. "500M"\)/);
  t.match(problems('[test]\nschedule = "sometimes"\n' + HOSTS), /test\.schedule: must be one of "all", "rounds", "pairwise"/);
  t.match(problems('[test]\nreverse = true\nbidir = true\n' + HOSTS), /reverse and bidir exclude each other/);
  t.match(problems(HOSTS + 'cpus = "all"\n'), /hosts\[1\] \("h2"\)\.cpus: "all" is not allowed; use a CPU list like "2-15"/);
  t.match(problems(HOSTS + '[hosts.test]\nduraton = 3\n'), /hosts\[1\] \("h2"\)\.test: unknown key "duraton"; allowed: parallel, bitrate/);
});
