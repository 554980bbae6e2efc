// The meshperf command killed, interrupted and terminated mid-run on a real lab: nothing may be
// left on any host, and what was measured is kept.
import t from 'tap';
import { spawn, ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { canRunLab, filesOnHost, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { eventually, isDaemon } from './helpers/procs.js';
import { namespacePids } from '../lib/lab/network.js';
import { schemaErrors } from './helpers/schema.js';

const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;
const skip = !canRunLab && NO_LAB_REASON;

interface Cli {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves when stderr has matched `re` `times` times. */
  waitFor(re: RegExp, times?: number): Promise<void>;
}

function cli(args: string[]): Cli {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  const watchers: (() => void)[] = [];
  child.stderr!.on('data', (c) => {
    err += c;
    watchers.forEach((w) => w());
  });
  child.stdout!.on('data', (c) => (out += c));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal, at: Date.now() })),
  );
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exit,
    waitFor: (re, times = 1) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (err.match(new RegExp(re, 'g')) ?? []).length >= times && resolve();
        watchers.push(check);
        check();
        exit.then(() => reject(new Error(`exited before ${re}: ${err}`)));
      }),
  };
}

t.test('SIGKILL of the controller mid-run: every daemon and iperf3 on every host gone within 10 s', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.109.0/24');
  const filesBefore = filesOnHost(lab);
  const run = cli(['--inventory', lab.inventory, '--duration', '30', '--out', path.join(lab.tmp, 'out')]);
  await run.waitFor(/clients started/, 3);
  t.ok((await leftovers(lab)).length > 0, 'the mesh is running');
  run.child.kill('SIGKILL');
  const killedAt = Date.now();
  t.ok(await eventually(async () => (await leftovers(lab)).length === 0, 10_000), 'nothing left on any host');
  t.comment(`clean after ${Date.now() - killedAt} ms`);
  t.same([...filesOnHost(lab)].filter((f) => !filesBefore.has(f)), [], 'no file written on any host (/tmp, /var/tmp, home)');
});

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  t.test(`${sig} mid-run: remote iperf3s stopped within 5 s, partial results written, exit ${code}`, { skip }, async (t) => {
    const lab = await withLab(t, 3, sig === 'SIGINT' ? '198.19.110.0/24' : '198.19.111.0/24');
    const out = path.join(lab.tmp, 'out');
    const run = cli(['--inventory', lab.inventory, '--duration', '30', '--out', out]);
    await run.waitFor(/clients started/, 3);
    await new Promise((r) => setTimeout(r, 1500));
    const sentAt = Date.now();
    run.child.kill(sig);
    t.ok(await eventually(async () => (await leftovers(lab)).length === 0, 5000), 'no iperf3 left on any host within 5 s');
    const { code: exitCode, at } = await run.exit;
    t.equal(exitCode, code);
    t.ok(at - sentAt < 10_000, `exited ${at - sentAt} ms after ${sig}`);
    const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    t.equal(doc.run.interrupted, true, 'results say interrupted');
    t.equal(schemaErrors(doc), '', 'and are valid against the schema');
    const first = doc.sources.h1.destinations.h2.instances[0];
    t.ok(first.iperf3, 'what the interrupted iperf3 printed is kept');
    const instances = Object.values(doc.sources).flatMap((s: any) => Object.values(s.destinations).flatMap((p: any) => p.instances)) as any[];
    t.same([...new Set(instances.map((i) => i.status))], ['interrupted'], 'every instance is interrupted, none failed');
    t.equal(first.error.code, 'interrupted');
    t.ok(instances.every((i) => i.metrics.throughput_bps > 1e6), 'each keeps the throughput it measured until then');
    t.equal(doc.summary.pairs_interrupted, 6);
    t.ok(doc.summary.aggregate_throughput_bps > 1e6, 'the run says what the mesh carried');
    t.match(run.stdout(), /run interrupted: 6 instances stopped early kept what they measured/, 'the summary line says so');
    t.notOk(existsSync(path.join(out, 'partial')), 'partial files are gone once results.json is written');
  });
}

t.test('a second Ctrl-C exits at once, and the hosts still clean up', { skip }, async (t) => {
  const lab = await withLab(t, 2, '198.19.112.0/24');
  const run = cli(['--inventory', lab.inventory, '--duration', '30', '--out', path.join(lab.tmp, 'out')]);
  await run.waitFor(/clients started/, 2);
  run.child.kill('SIGINT');
  await run.waitFor(/SIGINT: stopping every iperf3/);
  const second = Date.now();
  run.child.kill('SIGINT');
  const { code, at } = await run.exit;
  t.equal(code, 130);
  t.ok(at - second < 1000, `exited ${at - second} ms after the second Ctrl-C`);
  t.ok(await eventually(async () => (await leftovers(lab)).length === 0, 10_000), 'nothing left on any host');
});

t.test('a controller that dies after collecting some hosts leaves their results behind', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.113.0/24');
  const out = path.join(lab.tmp, 'out');
  const run = cli(['--inventory', lab.inventory, '--duration', '2', '--out', out]);
  await run.waitFor(/clients started/, 3);
  // Freeze h3's daemon: h1 and h2 are collected at the planned end, h3 is waited for.
  const h3pids = await namespacePids(lab.network.hosts[2]!.namespace);
  const h3daemon = (await leftovers(lab)).find((p) => isDaemon(p) && h3pids.includes(p.pid));
  t.ok(h3daemon, 'found h3\'s daemon');
  process.kill(h3daemon!.pid, 'SIGSTOP');
  await run.waitFor(/h[12]: collected/, 2);
  await run.waitFor(/collecting: waiting for h3/);
  t.pass('while it waits, it says for whom');
  run.child.kill('SIGKILL');
  const partial = readdirSync(path.join(out, 'partial')).filter((f) => f.startsWith('round-')).sort();
  t.same(partial, ['round-0-client-h1.json', 'round-0-client-h2.json'], 'the hosts collected before the crash are on disk');
  const h1 = JSON.parse(readFileSync(path.join(out, 'partial', 'round-0-client-h1.json'), 'utf8'));
  t.ok(h1.records.some((r: { role: string; iperf3: unknown }) => r.role === 'client' && r.iperf3), 'with their iperf3 results');
  process.kill(h3daemon!.pid, 'SIGCONT');
  t.ok(await eventually(async () => (await leftovers(lab)).length === 0, 10_000), 'and h3 cleans up once it runs again');

  // meshperf recover builds the results from the journal alone.
  const rec = cli(['recover', out]);
  t.equal((await rec.exit).code, 0, rec.stderr());
  const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
  t.equal(schemaErrors(doc), '', 'recovered results are valid');
  t.equal(doc.run.interrupted, true, 'and say the run did not finish');
  for (const src of ['h1', 'h2']) {
    for (const [dst, p] of Object.entries(doc.sources[src].destinations) as [string, any][]) {
      t.equal(p.summary.status, 'ok', `${src} -> ${dst}, collected before the crash, is in them`);
    }
  }
  t.equal(doc.sources.h3.destinations.h1.summary.error.code, 'interrupted', 'h3\'s clients, never collected, are marked interrupted');
  t.notOk(existsSync(path.join(out, 'partial')), 'the journal is gone once results.json is written');
  t.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /<td class="cell" data-src="h1" data-dst="h2"/, 'and report.html is written beside them');
  t.equal(doc.run.parameters.thresholds.min_percent_of_median, 50, 'with the run\'s thresholds, from the journal');
});

t.test('a crash in round 2 of --schedule rounds keeps round 1', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.131.0/24');
  const out = path.join(lab.tmp, 'out');
  const run = cli(['--inventory', lab.inventory, '--duration', '2', '--schedule', 'rounds', '--out', out]);
  await run.waitFor(/clients started \(round 2\)/, 3);
  run.child.kill('SIGKILL');
  const names = readdirSync(path.join(out, 'partial'));
  t.ok(['h1', 'h2', 'h3'].every((h) => names.includes(`round-0-client-${h}.json`)), 'round 1 of every host is on disk');
  t.ok(await eventually(async () => (await leftovers(lab)).length === 0, 10_000), 'nothing left on any host');
  const rec = cli(['recover', out]);
  t.equal((await rec.exit).code, 0, rec.stderr());
  const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
  const instances = Object.values(doc.sources).flatMap((s: any) => Object.values(s.destinations).flatMap((p: any) => p.instances)) as any[];
  const first = instances.filter((i) => i.round === 0);
  t.equal(first.length, 3);
  t.ok(first.every((i) => i.status === 'ok' && i.metrics.throughput_bps > 1e6), 'round 1\'s three pairs are measured');
  t.ok(instances.filter((i) => i.round === 1).every((i) => i.error.code === 'interrupted'), 'round 2\'s are marked interrupted');
  t.equal(doc.run.rounds[0].aggregate_throughput_bps > 1e6, true);
});

t.test('--out that is not empty is refused unless --force; a port range too small is refused', async (t) => {
  const dir = t.testdir({ out: { 'old.txt': 'x' } });
  const inv = path.join(dir, 'hosts.toml');
  writeFileSync(inv, '[test]\nport_range = "5201-5202"\nprocesses = 2\n' + ['a', 'b', 'c'].map((n, i) => `[[hosts]]\nname = "${n}"\naddress = "198.19.114.${11 + i}"\n`).join(''));
  const r1 = cli(['--inventory', inv, '--out', path.join(dir, 'out')]);
  t.equal((await r1.exit).code, 2);
  t.match(r1.stderr(), /--out .*out is not empty; choose another directory or add --force/);
  mkdirSync(path.join(dir, 'empty'));
  const r2 = cli(['--inventory', inv, '--out', path.join(dir, 'empty')]);
  t.equal((await r2.exit).code, 2);
  t.match(r2.stderr(), /test\.port_range: "5201-5202" holds 2 ports, but each host runs 4 iperf3 servers \(2 per peer × 2 peers\); widen it to at least 4 ports/);
  t.same(readdirSync(path.join(dir, 'empty')), [], 'nothing written');
});
