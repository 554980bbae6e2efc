// A log to troubleshoot from: every run writes <out>/meshperf.log (JSON lines); --verbose prints
// the same entries readably as they happen; --json prints the events on stdout for automation.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { canRunLab, NO_LAB_REASON, withLab } from './helpers/lab.js';

const skip = !canRunLab && NO_LAB_REASON;
const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;

t.test('meshperf.log tells what happened to each host; --verbose and --json say the same as it happens', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.181.0/24');
  // h3's node does not exist: its shell says so on stderr, and the host fails no_node.
  const inventory = path.join(lab.tmp, 'hosts.toml');
  const toml = readFileSync(lab.inventory, 'utf8').replace('[ssh]', '[runtime]\npush_node = "never"\n\n[ssh]');
  writeFileSync(inventory, toml.replace(/(name = "h3"\n.*\n)/, '$1node = "/nonexistent/node"\n'));
  const run = (out: string, ...args: string[]) => spawnSync(process.execPath, [BIN, '--inventory', inventory, '--duration', '1', '--out', path.join(lab.tmp, out), ...args], { encoding: 'utf8' });

  const r = run('plain');
  t.equal(r.status, 1, 'a host failed: exit 1');
  t.match(r.stdout, /log: +\S+meshperf\.log/, 'the log is named with the results');
  const lines = readFileSync(path.join(lab.tmp, 'plain', 'meshperf.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  for (const l of lines) t.ok(!Number.isNaN(Date.parse(l.ts)) && typeof l.event === 'string', `${l.event}: a timestamp and an event`);
  const of = (event: string, host?: string) => lines.filter((l) => l.event === event && (host === undefined || l.host === host));
  t.match(of('run-start')[0], { hosts: ['h1', 'h2', 'h3'], test: { duration: 1 }, thresholds: { min_percent_of_median: 50 } });
  for (const h of ['h1', 'h2', 'h3']) t.equal(of('host-connecting', h).length, 1, `${h}: its connect attempt`);
  for (const h of ['h1', 'h2']) {
    t.match(of('host-ready', h)[0], { hello: { hostname: h, iperf3_version: /^3\./, cpus: Array } }, `${h}: its hello facts`);
    t.equal(of('servers-listening', h).length, 1, `${h}: its servers`);
    t.match(of('host-collected', h), [{ role: 'client', instances: [{ id: /^h\d>h\d#\d+$/, state: 'exited', exit_code: 0 }] }, { role: 'server' }], `${h}: each collect, by instance`);
  }
  t.match(of('round-scheduled')[0], { round: 0, start_at: String, hosts: ['h1', 'h2'].length ? Array : null }, 'the start instant');
  t.match(of('daemon-stderr', 'h1').map((l) => l.line).join('\n'), /meshperf-daemon\[\d+\]: stdin closed: stopping every iperf3/, 'h1: what its daemon said on stderr');
  t.match(of('host-failed', 'h3')[0], { error: { code: 'no_node', message: /nonexistent/ } }, 'h3: the error with its code');
  t.match(of('results')[0], { json: /results\.json$/, csv: /results\.csv$/ });
  t.notOk(lines.some((l) => l.event === 'interval'), 'per-second intervals stay in results.json');

  // Where the time went: run.timings (phase -> ms), each host's own steps, and the same in the log.
  const doc = JSON.parse(readFileSync(path.join(lab.tmp, 'plain', 'results.json'), 'utf8'));
  const tm = doc.run.timings as Record<string, number>;
  for (const phase of ['connect', 'interfaces', 'plan', 'servers', 'clock', 'prepare', 'lead', 'test', 'collect', 'disconnect', 'build', 'total']) t.type(tm[phase], 'number', `run.timings.${phase}`);
  t.ok(tm.test! >= 900 && tm.test! < 1500, `the test took its second (${tm.test} ms)`);
  const phases = Object.entries(tm).filter(([k]) => k !== 'total').reduce((a, [, v]) => a + v, 0);
  t.ok(phases <= tm.total! + 5 && phases >= tm.total! * 0.8, `the phases (${Math.round(phases)} ms) account for the run (${tm.total} ms)`);
  const h1 = doc.run.hosts.find((h: { name: string }) => h.name === 'h1');
  t.ok(['connect', 'boot', 'hello', 'servers', 'clock'].every((k) => h1.timings[k] > 0), `h1's own steps: ${JSON.stringify(h1.timings)}`);
  t.ok(h1.timings.connect + h1.timings.boot + h1.timings.hello <= tm.connect! + 1, 'a host\'s connect fits in the run\'s');
  t.match(of('results')[0].timings, { ...Object.fromEntries(Object.keys(tm).map((k) => [k, Number])), write: Number }, 'the log has them, and the write');

  const v = run('verbose', '--verbose', '--pretty');
  t.equal(readFileSync(path.join(lab.tmp, 'plain', 'results.json'), 'utf8').trim().split('\n').length, 1, 'results.json is compact: one line');
  t.match(readFileSync(path.join(lab.tmp, 'verbose', 'results.json'), 'utf8'), /^\{\n {2}"format": "meshperf\.results\/v1",\n/, '--pretty indents it');
  t.match(v.stderr, /^\d\d:\d\d:\d\d\.\d{3} h1 +host-ready +h1: ready \(h1, iperf3 3\./m, '--verbose: time, host, event, what it says');
  t.match(v.stderr, /^\d\d:\d\d:\d\d\.\d{3} h3 +host-failed +h3: FAILED no_node: .*nonexistent/m);
  t.match(v.stderr, /^\d\d:\d\d:\d\d\.\d{3} h2 +daemon-stderr +h2: daemon stderr: meshperf-daemon/m);
  t.match(v.stderr, /^\d\d:\d\d:\d\d\.\d{3} - +done +2\/6 pairs ok, 4 fail their thresholds$/m);
  t.match(v.stderr, /^\d\d:\d\d:\d\d\.\d{3} - +round-scheduled +round 1: 2 clients on 2 hosts released at \S+Z/m);
  t.match(v.stdout, /src \\ dst/, 'the matrix still ends it');

  const j = run('json', '--json');
  t.equal(j.status, 1);
  const events = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.notMatch(j.stdout, /src \\ dst/, '--json: no matrix');
  t.match(events[0], { event: 'host-connecting' });
  t.match(events.at(-2), { event: 'done', summary: { hosts: 3, hosts_failed: 1 } });
  t.match(events.at(-1), { event: 'results', exit_code: 1, json: /results\.json$/, log: /meshperf\.log$/ });
  t.equal(j.stderr, '', 'nothing else on stderr');
});
