// The meshperf command as a user runs it: exit codes, the matrix, files, failed hosts named.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { labDown, labUp } from '../lib/lab/lab.js';
import { networkInUse, labLayout } from '../lib/lab/network.js';
import { schemaErrors } from './helpers/schema.js';

const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;

function meshperf(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('bad usage exits 2 with a message and connects to nothing', async (t) => {
  const dir = t.testdir();
  const inv = path.join(dir, 'hosts.toml');
  writeFileSync(inv, '[[hosts]]\nname = "a"\naddress = "198.19.102.11"\n[[hosts]]\nname = "b"\naddress = "198.19.102.12"\n');
  const cases: [string[], RegExp][] = [
    [['--inventory', inv, '--duration', 'abc'], /--duration must be a whole number from 1 to 86400, got "abc"/],
    [['--inventory', inv, '--duration', '0'], /--duration must be a whole number from 1 to 86400, got "0"/],
    [['--inventory', inv, '--parallel', '1.5'], /--parallel must be a whole number from 1 to 128, got "1\.5"/],
    [['--inventory', inv, '--parallel', '500'], /--parallel must be a whole number from 1 to 128, got "500"/],
    [['--inventory', inv, '--bitrate', 'fast'], /--bitrate must be a number, optionally with K, M or G \(e\.g\. 500M\), got "fast"/],
    [['--inventory', inv, '--reverse', '--bidir'], /--reverse and --bidir exclude each other/],
    [['--inventory', inv, '--schedule', 'often'], /Invalid values:.*schedule.*often/s],
    [['--inventory', inv, '--dscp', '64'], /--dscp must be a whole number from 0 to 63, got "64"/],
    [['--inventory', inv, '--processes', '0'], /--processes must be "auto" or a whole number from 1 to 256, got "0"/],
    [['--inventory', inv, '--congestion', 'Cubic!'], /--congestion must be a name such as cubic or bbr/],
    [['--inventory', inv, '--window', '512'], /--window must be a whole number from 1024 to 1073741824 \(e\.g\. 256K\), got "512"/],
    [['--inventory', inv, '--bogus'], /Unknown argument: bogus/],
    [[], /Missing required argument: inventory/],
    [['--inventory', '/nonexistent.toml'], /\/nonexistent\.toml: cannot read the inventory: ENOENT/],
    [['lab', 'up', '--dir', path.join(dir, 'lab'), '--subnet', '10.0.0.0/24'], /--subnet 10\.0\.0\.0\/24: use a \/24 inside 198\.18\.0\.0\/15/],
    [['lab', 'down', '--dir', '/nonexistent-lab'], /no lab in \/nonexistent-lab/],
    [['--inventory', inv, '--out', '/proc/x/y'], /output directory \/proc\/x\/y cannot be written \(ENOENT\); choose one you can write to/],
  ];
  for (const [args, msg] of cases) {
    const r = meshperf(...args);
    t.equal(r.code, 2, `exit 2 for ${args.join(' ') || '(no arguments)'}`);
    t.match(r.stderr, msg);
  }
});

t.test('a run over SSH prints the matrix and writes both files; exit 0', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 3, '198.19.102.0/24');
  const out = path.join(lab.tmp, 'out');
  const r = meshperf('--inventory', lab.inventory, '--duration', '1', '--processes', '2', '--schedule', 'rounds', '--udp', '--bitrate', '20M', '--out', out);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /src \\ dst\s+h1\s+h2\s+h3/);
  t.match(r.stdout, /6\/6 pairs ok, 12\/12 iperf3 instances ok/);
  const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
  t.equal(schemaErrors(doc), '');
  t.equal(doc.run.parameters.processes, 2, '--processes overrides the inventory');
  t.equal(doc.run.parameters.duration, 1, '--duration overrides the inventory');
  t.same([doc.run.parameters.schedule, doc.run.parameters.protocol, doc.run.parameters.bitrate], ['rounds', 'udp', 20e6], 'and so do --schedule, --udp, --bitrate');
  t.equal(doc.run.rounds.length, 2);
  t.equal(readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n').length, 13, 'header + 12 instance rows');
  t.same(await leftovers(lab), []);
});

t.test('hosts that cannot take part are named; the rest still run; exit 1', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 4, '198.19.103.0/24');
  const empty = path.join(lab.tmp, 'empty_known_hosts');
  writeFileSync(empty, '');
  // h4 with a known_hosts that lacks its key; h5 where nothing listens.
  const text = readFileSync(lab.inventory, 'utf8')
    .replace('name = "h4"\naddress = "198.19.103.14"', `name = "h4"\naddress = "198.19.103.14"\nknown_hosts = "${empty}"`)
    .replace('[ssh]', '[ssh]\nconnect_timeout = 3') + '[[hosts]]\nname = "h5"\naddress = "198.19.103.99"\n';
  const inv = path.join(lab.tmp, 'faulty.toml');
  writeFileSync(inv, text);
  const out = path.join(lab.tmp, 'out');
  const r = meshperf('--inventory', inv, '--duration', '1', '--out', out);
  t.equal(r.code, 1, 'exit 1: the run finished but some hosts failed');
  const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
  t.equal(schemaErrors(doc), '', 'partial results are still valid');
  const host = (n: string) => doc.run.hosts.find((h: { name: string }) => h.name === n);
  t.equal(host('h4').error.code, 'host_key_unknown');
  t.match(host('h4').error.message, new RegExp(`ssh-ed25519 SHA256:\\S+ is not in ${empty}`), 'names the key and the file');
  t.equal(host('h5').error.code, 'unreachable');
  t.equal(doc.sources.h1.destinations.h5.summary.status, 'skipped');
  t.equal(doc.sources.h4.destinations.h2.summary.status, 'skipped');
  t.equal(doc.summary.pairs, 20);
  t.equal(doc.summary.pairs_ok, 6, 'h1, h2, h3 still measured their 6 pairs');
  t.match(r.stdout, /skip:host_key_unknown/);
  t.match(r.stdout, /h5: unreachable: root@198\.19\.103\.99:22: cannot connect/);
  t.same(await leftovers(lab), []);
});

t.test('meshperf demo builds a lab, runs, prints the matrix and removes the lab', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const out = path.join(t.testdir(), 'out');
  const r = meshperf('demo', '--hosts', '3', '--duration', '1', '--subnet', '198.19.104.0/24', '--out', out);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /building a 3-host emulated cluster/);
  t.match(r.stdout, /6\/6 pairs ok/);
  t.match(r.stdout, /demo: lab removed/);
  t.ok(existsSync(path.join(out, 'results.json')));
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  t.notMatch(ns, /meshperf-168-/, 'its namespaces are gone');
});

t.test('without root the demo falls back to the local transport and says so', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  // Run as the unprivileged user "nobody" (setpriv drops root), as a user without root would.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-nobody-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o777);
  const r = spawnSync(
    'setpriv',
    ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', `HOME=${dir}`, process.execPath, BIN, 'demo', '--hosts', '3', '--duration', '1', '--out', path.join(dir, 'out')],
    { encoding: 'utf8', timeout: 60_000 },
  );
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /not root on Linux with sshd, so no emulated cluster: running the same daemon locally on 127\.0\.0\.x/);
  t.match(r.stdout, /6\/6 pairs ok/);
  const doc = JSON.parse(readFileSync(path.join(dir, 'out', 'results.json'), 'utf8'));
  t.equal(doc.run.parameters.transport, 'local');
  t.equal(schemaErrors(doc), '');
});

t.test('lab up on a subnet another lab uses is refused and leaves that lab alone; demo picks a free /24', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 2, '198.19.133.0/24');
  const r = meshperf('lab', 'up', '--hosts', '2', '--dir', path.join(lab.tmp, 'second'), '--subnet', '198.19.133.0/24');
  t.equal(r.code, 2);
  t.match(r.stderr, /--subnet 198\.19\.133\.0\/24 is in use: the bridge mpbr185 exists; choose another --subnet, or take that lab down first/);
  const run = meshperf('--inventory', lab.inventory, '--duration', '1', '--out', path.join(lab.tmp, 'out'));
  t.equal(run.code, 0, 'the first lab still runs a mesh');
  t.match(run.stdout, /2\/2 pairs ok/);

  // The demo's default /24 taken (by a lab of ours, unless a user's lab already holds it).
  const dir = t.testdir();
  if (!(await networkInUse(labLayout('198.18.0.0/24', 2)))) {
    await labUp({ hosts: 2, dir: path.join(dir, 'default'), subnet: '198.18.0.0/24' });
    t.teardown(() => labDown(path.join(dir, 'default')));
  }
  const demo = meshperf('demo', '--hosts', '2', '--duration', '1', '--out', path.join(dir, 'out'));
  t.equal(demo.code, 0, demo.stderr);
  t.match(demo.stdout, /building a 2-host emulated cluster in \S+ on 198\.1[89]\.\d+\.0\/24/);
  t.notMatch(demo.stdout, / on 198\.18\.0\.0\/24 /, 'not on the taken default');
  t.match(demo.stdout, /2\/2 pairs ok/);
  t.ok(await networkInUse(labLayout('198.18.0.0/24', 2)), 'and the lab on the default /24 is still there');
});
