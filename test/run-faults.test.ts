// Faults during a run on a real lab: late sshd, a throttled handshake, a busy server, unknown host
// keys, a cut link. Each test checks every host for leftover iperf3 and daemon processes afterwards.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadInventory, renderReport, runMesh, type MeshEvent } from '../lib/index.js';
import { parseProcNetTcp, TCP_LISTEN } from '../lib/shared/proc-net-tcp.js';
import { hostFiles } from '../lib/lab/lab.js';
import { startSshd } from '../lib/lab/sshd.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { eventually } from './helpers/procs.js';
import { schemaErrors } from './helpers/schema.js';

const skip = !canRunLab && NO_LAB_REASON;
const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;

t.test('a host whose sshd comes up late is retried with backoff and joins', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.106.0/24');
  const h2 = lab.network.hosts[1]!;
  process.kill(lab.sshdPids[1]!, 'SIGKILL');
  // sshd returns after 1.2 s: the first attempt is refused, a later one gets in.
  const { config, log, home } = hostFiles(lab.dir, 'h2');
  const restart = new Promise((r) => setTimeout(r, 1200)).then(() => startSshd({ namespace: h2.namespace, name: h2.name, config, log, home }));
  const events: MeshEvent[] = [];
  const doc = await runMesh({ inventory: await loadInventory(lab.inventory), test: { duration: 1 }, onEvent: (e) => events.push(e) });
  await restart;
  const retries = events.filter((e): e is Extract<MeshEvent, { type: 'host-retry' }> => e.type === 'host-retry');
  t.ok(retries.length >= 1 && retries.every((e) => e.host === 'h2'), `h2 was retried (${retries.length}x)`);
  t.equal(retries[0]!.error.code, 'unreachable');
  t.equal(doc.summary.pairs_ok, 6, 'and the full mesh was measured');
  t.same(await leftovers(lab), []);
});

t.test('a handshake sshd drops (MaxStartups) is retried, and the host joins', { skip }, async (t) => {
  const lab = await withLab(t, 2, '198.19.128.0/24');
  const h2 = lab.network.hosts[1]!;
  // h2's sshd takes one unauthenticated connection at a time and says so in its log.
  const { dir, home, config: usual } = hostFiles(lab.dir, 'h2');
  const config = path.join(dir, 'sshd_config_throttled');
  writeFileSync(config, readFileSync(usual, 'utf8').replace(/^MaxStartups .*$/m, 'MaxStartups 1').replace(/^LogLevel .*$/m, 'LogLevel INFO'));
  process.kill(lab.sshdPids[1]!, 'SIGKILL');
  const log = path.join(dir, 'sshd-throttled.log');
  lab.sshdPids[1] = await startSshd({ namespace: h2.namespace, name: h2.name, config, log, home });
  // Someone else's handshake is in progress (connected, banner read, nothing sent) for 1 s.
  const holder = net.connect(22, h2.address);
  t.teardown(() => holder.destroy());
  await once(holder, 'data');
  setTimeout(() => holder.destroy(), 1000);

  const inventory = await loadInventory(lab.inventory);
  inventory.hosts[1]!.ssh.connect_attempts = 5; // backoff 0.5, 1, 2, 4 s: far past the 1 s hold
  const events: MeshEvent[] = [];
  const doc = await runMesh({ inventory, test: { duration: 1 }, onEvent: (e) => events.push(e) });
  t.match(readFileSync(log, 'utf8'), /past MaxStartups/, 'sshd dropped a handshake for MaxStartups');
  const retries = events.filter((e): e is Extract<MeshEvent, { type: 'host-retry' }> => e.type === 'host-retry');
  t.ok(retries.length >= 1 && retries.every((e) => e.host === 'h2'), `h2 was retried (${retries.length}x)`);
  t.equal(retries[0]!.error.code, 'unreachable');
  t.match(retries[0]!.error.message, /closed it before the SSH handshake: too many handshakes at once \(MaxStartups\)/, 'and says what it may mean');
  t.equal(doc.summary.pairs_ok, 2, 'and the mesh was measured');
  t.same(await leftovers(lab), []);
});

t.test('a server another client got to first ("server is busy"): that instance fails with the reason, the run goes on', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.129.0/24');
  const [h1, h2] = lab.network.hosts as [(typeof lab.network.hosts)[0], (typeof lab.network.hosts)[0]];
  let taken = 0;
  let stranger = 0;
  t.teardown(() => stranger && spawnSync('kill', ['-KILL', String(stranger)]));
  const onEvent = (e: MeshEvent) => {
    if (e.type !== 'servers-listening' || e.host !== 'h2') return;
    // Someone else's iperf3 client takes h2's first server before meshperf's client is released.
    const tcp = execFileSync('ip', ['netns', 'exec', h2.namespace, 'cat', '/proc/net/tcp'], { encoding: 'utf8' });
    taken = Math.min(...parseProcNetTcp(tcp).filter((s) => s.state === TCP_LISTEN && s.port !== 22).map((s) => s.port));
    const out = execFileSync('ip', ['netns', 'exec', h1.namespace, 'sh', '-c',
      `iperf3 -c ${h2.address} -p ${taken} -t 4 >/dev/null 2>&1 & echo $!; sleep 0.3`], { encoding: 'utf8' });
    stranger = Number(out.trim());
  };
  const doc = await runMesh({ inventory: await loadInventory(lab.inventory), test: { duration: 2, processes: 1 }, onEvent });
  t.ok(taken > 0, `the stranger took port ${taken}`);
  t.equal(schemaErrors(doc), '');
  const instances = Object.values(doc.sources).flatMap((s) => Object.values(s.destinations).flatMap((p) => p.instances));
  const busy = instances.filter((i) => i.status === 'failed');
  t.equal(busy.length, 1, 'one instance failed');
  const [i] = busy;
  t.equal(i?.server?.port, taken, 'the one whose server the stranger took');
  t.match(i?.error?.message, /server is busy/, `with iperf3's reason: ${i?.error?.message}`);
  t.type(i?.client?.exit_code, 'number', 'and the client\'s exit status');
  t.equal(doc.summary.pairs_ok, 5, 'every other pair was measured');
  // Each daemon's success rate: the stolen server is on h2, its client on the pair's source.
  const src = Object.entries(doc.sources).find(([, s]) => Object.values(s.destinations).some((p) => p.instances.includes(i!)))![0];
  const conn = (n: string) => doc.run.hosts.find((h) => h.name === n)!.connections!;
  t.same(conn('h2').as_server, { total: 2, ok: 1, failed: 1, interrupted: 0 }, 'h2 served two connections, one failed');
  t.same(conn(src).as_client, { total: 2, ok: 1, failed: 1, interrupted: 0 }, `${src} sent two, one failed`);
  t.equal(conn('h2').success_rate, 0.75, 'h2: 3 of its 4 connections worked');
  const third = ['h1', 'h3'].find((n) => n !== src)!;
  t.equal(conn(third).success_rate, 1, `${third}: none of its connections failed`);
  const h2Row = /<tr data-host="h2">.*?<\/tr>/.exec(renderReport(doc, { format: 'html' }))?.[0];
  t.match(h2Row, /75 % \(2\/2, 1\/2\)/, 'report.html\'s hosts table shows it');
  spawnSync('kill', ['-KILL', String(stranger)]);
  t.ok(await eventually(async () => (await leftovers(lab)).length === 0), 'nothing is left running');
});

t.test('unknown host keys: refused by default, added with accept_new_host_keys, then checked', { skip }, async (t) => {
  const lab = await withLab(t, 2, '198.19.107.0/24');
  const inventory = await loadInventory(lab.inventory);
  const kh = path.join(lab.dir, 'known_hosts');
  rmSync(kh);
  const strict = await runMesh({ inventory, test: { duration: 1 } });
  t.same(strict.run.hosts.map((h) => h.error?.code), ['host_key_unknown', 'host_key_unknown'], 'strict by default');

  for (const h of inventory.hosts) h.ssh.accept_new_host_keys = true;
  const accepted = await runMesh({ inventory, test: { duration: 1 } });
  t.equal(accepted.summary.pairs_ok, 2, 'accept-new lets them in');
  const lines = readFileSync(kh, 'utf8').trim().split('\n');
  t.equal(lines.length, 2, 'and records both keys');
  const real = execFileSync('ssh-keygen', ['-lf', kh], { encoding: 'utf8' });
  t.match(real, /ED25519/, 'in a known_hosts file OpenSSH reads');

  for (const h of inventory.hosts) h.ssh.accept_new_host_keys = false;
  const again = await runMesh({ inventory, test: { duration: 1 } });
  t.equal(again.summary.pairs_ok, 2, 'strict again, the recorded keys are accepted');
  t.same(await leftovers(lab), []);
});

t.test('a link cut mid-run: noticed, its pairs failed with the reason, the rest kept, the cut host cleans up', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.108.0/24');
  const inventory = await loadInventory(lab.inventory);
  const h3 = lab.network.hosts[2]!;
  // The cut daemon waits lost_after + 4 s (plus its processes' share) after the test for a word.
  for (const h of inventory.hosts) h.ssh.lost_after = 10;
  const DURATION = 8;
  let cutAt = 0;
  const run = runMesh({
    inventory,
    test: { duration: DURATION },
    onEvent: (e) => {
      if (e.type === 'test-running' && e.elapsed_s >= 2 && !cutAt) {
        cutAt = Date.now();
        execFileSync('ip', ['link', 'set', h3.veth, 'down']);
      }
    },
  });
  const doc = await run;
  const afterPlannedEnd = (Date.now() - cutAt) / 1000 - (DURATION - 2);
  t.ok(cutAt > 0, 'the link was cut during the test');
  t.ok(afterPlannedEnd <= 20, `the run ended ${afterPlannedEnd.toFixed(1)} s after its planned end (bound: 20 s)`);
  const host3 = doc.run.hosts.find((h) => h.name === 'h3')!;
  t.equal(host3.status, 'failed');
  t.equal(host3.error?.code, 'host_lost');
  t.equal(doc.sources.h1.destinations.h2.summary.status, 'ok', 'pairs away from the cut host are measured');
  t.equal(doc.sources.h2.destinations.h1.summary.status, 'ok');
  for (const [s, d] of [['h1', 'h3'], ['h3', 'h1'], ['h2', 'h3'], ['h3', 'h2']] as const) {
    const p = doc.sources[s]!.destinations[d]!;
    t.equal(p.summary.status, 'failed', `${s} -> ${d} failed`);
    t.equal(p.summary.error?.code, 'host_lost', `${s} -> ${d} says why`);
  }
  t.equal(schemaErrors(doc), '');
  // The cut-off daemon hears nothing more: its heartbeat deadline (14 s + 1 s for its 4 processes) ends it and its iperf3s.
  t.ok(await eventually(async () => (await leftovers(lab)).length === 0, 20_000), 'no iperf3 or daemon left on any host, the cut one included');
});

t.test('an encrypted identity file: a clear error without its passphrase, a run with it', { skip }, async (t) => {
  const lab = await withLab(t, 2, '198.19.115.0/24');
  const key = path.join(lab.tmp, 'locked');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', key]);
  appendFileSync(path.join(lab.dir, 'authorized_keys'), readFileSync(`${key}.pub`));
  const inventory = await loadInventory(lab.inventory);
  for (const h of inventory.hosts) h.ssh.identity_file = key;
  const saved = process.env.MESHPERF_SSH_PASSPHRASE;
  t.teardown(() => (saved === undefined ? delete process.env.MESHPERF_SSH_PASSPHRASE : (process.env.MESHPERF_SSH_PASSPHRASE = saved)));

  delete process.env.MESHPERF_SSH_PASSPHRASE;
  const locked = await runMesh({ inventory, test: { duration: 1 } });
  t.equal(locked.run.hosts[0]!.error?.code, 'auth');
  t.match(locked.run.hosts[0]!.error?.message, /identity_file .*locked is encrypted: set MESHPERF_SSH_PASSPHRASE/);

  process.env.MESHPERF_SSH_PASSPHRASE = 'wrong';
  const wrong = await runMesh({ inventory, test: { duration: 1 } });
  t.match(wrong.run.hosts[0]!.error?.message, /is MESHPERF_SSH_PASSPHRASE right\?/);

  process.env.MESHPERF_SSH_PASSPHRASE = 'open sesame';
  const open = await runMesh({ inventory, test: { duration: 1 } });
  t.equal(open.summary.pairs_ok, 2, 'with the passphrase the mesh runs');
  t.notMatch(JSON.stringify(open), /open sesame/, 'and the passphrase is nowhere in the results');

  // On a terminal the command asks for it, without echo (script(1) gives it a pseudo-terminal).
  const toml = path.join(lab.tmp, 'locked.toml');
  writeFileSync(toml, readFileSync(lab.inventory, 'utf8').replace(/identity_file = .*/, `identity_file = ${JSON.stringify(key)}`));
  const env = { ...process.env };
  delete env.MESHPERF_SSH_PASSPHRASE;
  const cmd = `${process.execPath} ${BIN} --inventory ${toml} --duration 1 --out ${path.join(lab.tmp, 'tty-out')}`;
  const typed = spawnSync('sh', ['-c', `(sleep 1.5; printf 'open sesame\r') | script -qec "${cmd}" /dev/null`], { env, encoding: 'utf8', timeout: 60_000 });
  t.equal(typed.status, 0, typed.stdout.slice(-500));
  t.match(typed.stdout, /Passphrase for .*locked: /, 'it asks');
  t.notMatch(typed.stdout, /open sesame/, 'what is typed is not echoed');
  t.match(typed.stdout, /2\/2 pairs ok/, 'and the run goes on with it');
});

t.test('no identity_file and an ssh-agent without a usable key: the default key files are tried next, as OpenSSH does', { skip }, async (t) => {
  const lab = await withLab(t, 2, '198.19.132.0/24');
  // A home whose ~/.ssh/id_ed25519 is the lab's key, and an agent that holds only a key sshd refuses.
  const home = path.join(lab.tmp, 'home');
  mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  copyFileSync(path.join(lab.dir, 'id_ed25519'), path.join(home, '.ssh', 'id_ed25519'));
  chmodSync(path.join(home, '.ssh', 'id_ed25519'), 0o600);
  const stranger = path.join(lab.tmp, 'stranger');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
  const sock = path.join(lab.tmp, 'agent.sock');
  const agentOut = execFileSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
  const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agentOut)![1]);
  execFileSync('ssh-add', ['-q', stranger], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
  const saved = { HOME: process.env.HOME, SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK };
  t.teardown(() => {
    process.kill(agentPid, 'SIGTERM');
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  });
  process.env.HOME = home;
  process.env.SSH_AUTH_SOCK = sock;
  const inventory = await loadInventory(lab.inventory);
  for (const h of inventory.hosts) delete h.ssh.identity_file;
  const doc = await runMesh({ inventory, test: { duration: 1 } });
  t.same(doc.run.hosts.map((h) => h.error?.message ?? 'ok'), ['ok', 'ok'], 'the agent\'s key was refused, ~/.ssh/id_ed25519 accepted');
  t.equal(doc.summary.pairs_ok, 2);

  // With no usable key anywhere, the error says what was tried.
  rmSync(path.join(home, '.ssh', 'id_ed25519'));
  const refused = await runMesh({ inventory, test: { duration: 1 } });
  t.equal(refused.run.hosts[0]!.error?.code, 'auth');
  t.match(refused.run.hosts[0]!.error?.message, /authentication refused \(tried the keys in ssh-agent, then no key file in .*home\/\.ssh\)/);
});
