// meshperf report and meshperf compare on real results files (a healthy run and one with a host
// shaped with tc), every format and filter, bad files; report.html in a real headless Chromium.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { chromium } from 'playwright-core';
import { loadInventory, runMesh, type ResultsDocument } from 'meshperf';
import { PAIR_CSV_COLUMNS } from '../lib/report/csv.js';
import { canRunLab, NO_LAB_REASON, withLab } from './helpers/lab.js';

const skip = !canRunLab && NO_LAB_REASON;
const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const meshperf = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const SLOW = ['tbf', 'rate', '100mbit', 'burst', '64kb', 'latency', '50ms'];

t.test('report and compare on real results', { skip }, async (t) => {
  const lab = await withLab(t, 4, '198.19.182.0/24');
  const inventory = await loadInventory(lab.inventory);
  const base = path.join(lab.tmp, 'base');
  const slow = path.join(lab.tmp, 'slow');
  await runMesh({ inventory, test: { duration: 2 }, out: base });
  const h4 = lab.network.hosts[3]!;
  execFileSync('ip', ['netns', 'exec', h4.namespace, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', ...SLOW]);
  execFileSync('tc', ['qdisc', 'add', 'dev', h4.veth, 'root', ...SLOW]);
  await runMesh({ inventory, test: { duration: 2 }, out: slow });
  const doc = JSON.parse(readFileSync(path.join(slow, 'results.json'), 'utf8')) as ResultsDocument;
  const h4Pairs = ['h1>h4', 'h2>h4', 'h3>h4', 'h4>h1', 'h4>h2', 'h4>h3'];
  const pair = (key: string) => doc.sources[key.split('>')[0]!]!.destinations[key.split('>')[1]!]!;
  const json = (...args: string[]) => {
    const r = meshperf('report', slow, '--format', 'json', ...args);
    t.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { pairs: { src: string; dst: string; plane: string | null; summary: { throughput_bps: number; verdict: string } }[] };
  };
  const keys = (r: ReturnType<typeof json>) => r.pairs.map((p) => `${p.src}>${p.dst}`).sort();

  t.test('filters', async (t) => {
    t.equal(json().pairs.length, 12, 'every pair');
    t.same(keys(json('--src', 'h4')), ['h4>h1', 'h4>h2', 'h4>h3'], '--src');
    t.same(keys(json('--dst', 'h4', '--src', 'h1', '--src', 'h2')), ['h1>h4', 'h2>h4'], '--dst and --src repeated');
    t.equal(json('--src', 'h?', '--dst', '*').pairs.length, 12, 'globs');
    t.same(keys(json('--failed')), h4Pairs, '--failed: h4\'s pairs');
    const below = json('--below', '500M');
    t.ok(below.pairs.length >= 6 && below.pairs.every((p) => p.summary.throughput_bps < 500e6), '--below 500M');
    t.same(json('--plane', 'default').pairs.map((p) => p.plane), Array(12).fill('default'), '--plane');
    t.same(keys(json('--dst', 'h[3-4]', '--src', 'h1')), ['h1>h3', 'h1>h4'], 'the inventory\'s range syntax');
    t.same(keys(json('--dst', 'h[34]', '--src', 'h1')), ['h1>h3', 'h1>h4'], 'a glob class');
    t.same(keys(json('--src', 'h[1-2,4]', '--dst', 'h3')), ['h1>h3', 'h2>h3', 'h4>h3'], 'a pdsh list');
    const none = meshperf('report', slow, '--src', 'h5', '--dst', 'h[34]');
    t.equal(none.status, 2, 'a filter that matches no host is a usage error, not an empty matrix');
    t.match(none.stderr, /--src h5 matches none of this run's sources \(h1, h2, h3, h4\); did you mean "h\d"\?/, 'naming the hosts there are');
    t.equal(none.stdout, '', 'and no report');
    t.match(meshperf('report', slow, '--dst', 'h[3').stderr, /--dst "h\[3": a \[ without its \]/, 'an unreadable pattern says why');
  });

  t.test('formats', async (t) => {
    const matrix = meshperf('report', path.join(slow, 'results.json'), '--metric', 'rtt');
    t.equal(matrix.status, 0);
    t.match(matrix.stdout, /rtt per pair:\nsrc \\ dst +h1 +h2 +h3 +h4\nh1 +· +[\d.]+ (µs|ms)/, 'the matrix, of RTT, with its unit');
    t.match(matrix.stdout, /suspects, most likely first:\n {2}1\. host h4 \((both|egress|ingress)\)/, 'h4 first (which way is test/verdicts.test.ts\'s)');

    const csv = parse(meshperf('report', slow, '--format', 'csv').stdout, { columns: true }) as Record<string, string>[];
    t.same(Object.keys(csv[0]!), [...PAIR_CSV_COLUMNS], 'one header, the pair columns');
    t.equal(csv.length, 12, 'one row per pair');
    for (const row of csv) {
      const p = pair(`${row.source}>${row.destination}`);
      t.equal(Number(row.throughput_bps), p.summary.throughput_bps, `${row.source}>${row.destination}: its throughput`);
      t.equal(row.verdict, p.summary.verdict);
      t.equal(row.lost_percent, '', 'TCP: no loss column value');
    }
    t.match(csv.find((r) => r.source === 'h4')!.reasons, /of the median pair/);

    const md = meshperf('report', slow, '--format', 'markdown').stdout;
    t.match(md, /^## meshperf run /);
    t.match(md, /\| throughput: src \\ dst \| h1 \| h2 \| h3 \| h4 \|\n\|---\|/);
    t.match(md, /### Suspects, most likely first\n\n1\. \*\*host h4 \(/);

    // OpenMetrics, read back by the Prometheus client's own parser.
    const om = meshperf('report', slow, '--format', 'openmetrics').stdout;
    const parsed = JSON.parse(
      execFileSync('/usr/bin/python3', ['-c', 'import sys, json\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as p\nprint(json.dumps([[f.name, f.type, [[s.labels, s.value] for s in f.samples]] for f in p(sys.stdin.read())]))'], { input: om, encoding: 'utf8' }),
    ) as [string, string, [Record<string, string>, number][]][];
    const family = (name: string) => parsed.find(([n]) => n === name);
    t.ok(parsed.every(([n]) => n.startsWith('meshperf_')), 'every name starts with meshperf_');
    const tp = family('meshperf_pair_throughput_bps')!;
    t.equal(tp[1], 'gauge');
    t.equal(tp[2].length, 12);
    const h1h2 = tp[2].find(([l]) => l.src === 'h1' && l.dst === 'h2')!;
    t.same(h1h2[0], { src: 'h1', dst: 'h2', plane: 'default' }, 'labelled src, dst, plane');
    t.equal(h1h2[1], pair('h1>h2').summary.throughput_bps);
    t.equal(family('meshperf_pair_pass')![2].filter(([, v]) => v === 0).length, 6, 'six pairs fail');
    t.notOk(family('meshperf_pair_lost_percent'), 'no UDP metric for a TCP run');
    t.match(family('meshperf_suspect_confidence')![2][0]![0], { kind: 'host', host: 'h4', direction: /^(both|egress|ingress)$/ });
  });

  t.test('report.html, in a real Chromium', { skip: !CHROMIUM && 'no chromium here' }, async (t) => {
    t.ok(existsSync(path.join(slow, 'report.html')), 'written beside results.json by the run');
    const file = path.join(lab.tmp, 'filtered.html');
    t.equal(meshperf('report', slow, '--format', 'html', '--out', file).status, 0);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    await page.waitForSelector('#timeline canvas');
    t.same(errors, [], 'no console error');
    t.same(requests, [`file://${file}`], 'no request leaves the file');
    const cells = await page.$$eval('#heatmap td.cell', (tds) => tds.map((c) => ({ src: c.getAttribute('data-src'), dst: c.getAttribute('data-dst'), value: c.getAttribute('data-value'), text: c.textContent })));
    t.equal(cells.length, 12, 'a cell per pair');
    for (const c of cells) t.equal(Number(c.value), pair(`${c.src}>${c.dst}`).summary.throughput_bps, `${c.src}>${c.dst}: data-value is its throughput`);
    t.ok(cells.filter((c) => c.src === 'h4' || c.dst === 'h4').every((c) => c.text!.endsWith('!')), 'h4\'s cells marked failing');
    const egress = await page.$eval('[data-egress="h1"]', (e) => e.textContent);
    const sum = ['h2', 'h3', 'h4'].reduce((a, d) => a + pair(`h1>${d}`).summary.throughput_bps, 0);
    t.equal(egress, sum >= 1e9 ? `${(sum / 1e9).toFixed(2)} Gbit/s` : `${(sum / 1e6).toFixed(1)} Mbit/s`, 'the row sum is h1\'s egress');
    await page.selectOption('#metric', 'rtt');
    const rtt = await page.$eval('#heatmap td.cell[data-src="h1"][data-dst="h2"]', (c) => c.getAttribute('data-value'));
    t.equal(Number(rtt), pair('h1>h2').summary.rtt_mean_us, 'another metric: the cells show it');
    const instances = Object.values(doc.sources).flatMap((s) => Object.values(s.destinations)).flatMap((p) => p.instances).length;
    t.equal(await page.getAttribute('#timeline', 'data-series'), String(instances), 'the timeline has every flow');
    t.match(await page.textContent('#suspects'), /host h4 \(/);
    t.match(await page.textContent('#failures'), /h4 → h1: .* of the median pair/);
    const shot = process.env.MESHPERF_SCREENSHOT ?? path.join(os.tmpdir(), 'meshperf-report.png');
    await page.selectOption('#metric', 'throughput');
    await page.screenshot({ path: shot, fullPage: true });
    t.ok(readFileSync(shot).length > 10_000, `screenshot saved: ${shot}`);
  });

  t.test('compare', async (t) => {
    const r = meshperf('compare', base, slow);
    t.equal(r.status, 3, 'exit 3: pairs regressed');
    t.match(r.stdout, /^compared 12 pairs \(throughput, loss\)/);
    const c = JSON.parse(meshperf('compare', base, slow, '--format', 'json', '--tolerance', '10%').stdout);
    t.same(c.changes.slice(0, 6).map((x: { src: string; dst: string }) => `${x.src}>${x.dst}`).sort(), h4Pairs, 'h4\'s pairs first: the worst');
    t.ok(c.changes.slice(0, 6).every((x: { regressed: boolean; change_percent: number }) => x.regressed && x.change_percent < -50));
    t.equal(meshperf('compare', base, base).status, 0, 'a run against itself: exit 0');
    t.match(meshperf('compare', base, base).stdout, /nothing moved beyond the tolerance\nno regression/);
    t.match(meshperf('compare', base, slow, '--format', 'markdown').stdout, /\| ❌ \| h4 → h\d \| throughput \|/);
    t.match(meshperf('compare', base, slow, '--format', 'html').stdout, /<tr data-src="h4" data-dst="h\d" data-metric="throughput" data-regressed="true">/);
    // A pair in one run only (as when a host was added or removed).
    const fewer = JSON.parse(readFileSync(path.join(base, 'results.json'), 'utf8'));
    delete fewer.sources.h1.destinations.h2;
    writeFileSync(path.join(lab.tmp, 'fewer.json'), JSON.stringify(fewer));
    t.match(meshperf('compare', path.join(lab.tmp, 'fewer.json'), base).stdout, /only in the new run: h1>h2/);
    t.equal(meshperf('compare', base, slow, '--tolerance', 'lots').status, 2);
  });

  t.test('bad files and flags exit 2 with a message', async (t) => {
    writeFileSync(path.join(lab.tmp, 'garbage.json'), '{"format":');
    writeFileSync(path.join(lab.tmp, 'other.json'), '{"format":"something/v2"}');
    const cases: [string[], RegExp][] = [
      [['report', path.join(lab.tmp, 'missing.json')], /missing\.json: no such file/],
      [['report', path.join(lab.tmp, 'garbage.json')], /garbage\.json: not JSON/],
      [['report', path.join(lab.tmp, 'other.json')], /not a meshperf results file: "format" is "something\/v2", expected "meshperf\.results\/v1"/],
      [['report', slow, '--below', 'fast'], /--below must be a rate/],
      [['report', slow, '--plane', 'rail9'], /--plane rail9: this run measured "default"/],
      [['report', slow, '--format', 'pdf'], /Invalid values/],
      [['compare', base, path.join(lab.tmp, 'missing.json')], /no such file/],
    ];
    for (const [args, message] of cases) {
      const r = meshperf(...args);
      t.equal(r.status, 2, args.join(' '));
      t.match(r.stderr, message);
    }
  });
});
