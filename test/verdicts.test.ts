// Verdicts that name the bad link: one host of five shaped with tc (both ways, egress only,
// ingress only, lossy), measured for real; the verdicts, the suspects and the exit code are what
// a network engineer would check.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ResultsDocument } from 'meshperf';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

const skip = !canRunLab && NO_LAB_REASON;
const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;
const tc = (ns: string | null, ...args: string[]) => execFileSync(ns ? 'ip' : 'tc', ns ? ['netns', 'exec', ns, 'tc', ...args] : args);
// 100 Mbit/s against the lab's ~1 Gbit/s pairs: the classic NIC negotiated down. Its queue holds
// 10 ms, a NIC ring and a switch port's buffer at that rate: a 50 ms queue delayed the other
// way's ACKs so much that its pairs read as slow as the shaped ones (both ways alike, read
// 0.44–2.3× apart; at 10 ms, within 1.1×).
const SLOW = ['tbf', 'rate', '100mbit', 'burst', '64kb', 'latency', '10ms'];

t.test('one host of five shaped: its pairs fail, it is the first suspect, the run exits 3', { skip }, async (t) => {
  const lab = await withLab(t, 5, '198.19.180.0/24');
  const h5 = lab.network.hosts[4]!;
  let n = 0;
  const run = (...args: string[]) => {
    const out = path.join(lab.tmp, `run${n++}`);
    const r = spawnSync(process.execPath, [BIN, '--inventory', lab.inventory, '--duration', '3', '--out', out, ...args], { encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, doc: JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as ResultsDocument };
  };
  const failing = (doc: ResultsDocument) =>
    Object.entries(doc.sources).flatMap(([s, { destinations }]) => Object.entries(destinations).filter(([, p]) => p.summary.verdict === 'fail').map(([d]) => `${s}>${d}`)).sort();
  const h5Pairs = lab.network.hosts.filter((h) => h !== h5).flatMap((h) => [`${h.name}>h5`, `h5>${h.name}`]).sort();

  t.test('healthy: every pair passes, no suspect, exit 0', async (t) => {
    const r = run();
    t.equal(r.code, 0, r.stderr);
    t.equal(r.doc.summary.pairs_pass, 20);
    t.same(r.doc.summary.suspects, []);
    t.match(r.stdout, /verdict: all 20 pairs pass \(median pair/);
    // Against the line rate: veth says 10000 Mbit/s; under "all" each of 4 peers gets a quarter,
    // of which TCP at MTU 1500 can count 94.1 %: 2.35 Gbit/s. No lab pair reaches 99 % of that.
    const strict = run('--min-percent-of-line-rate', '99');
    t.equal(strict.code, 3);
    t.equal(strict.doc.run.parameters.thresholds.min_percent_of_line_rate, 99);
    const reason = strict.doc.sources.h1!.destinations.h2!.summary.reasons!.find((x) => x.threshold === 'min_percent_of_line_rate');
    t.match(reason?.message, /of what the line rates allow \(2\.35 Gbit\/s\), below 99 %/, 'the pair\'s share of the line rate, headers accounted for');
  });

  t.test('its NIC slow both ways: exactly its 8 pairs fail; h5 (both) is the first suspect', async (t) => {
    tc(h5.namespace, 'qdisc', 'add', 'dev', 'eth0', 'root', ...SLOW);
    tc(null, 'qdisc', 'add', 'dev', h5.veth, 'root', ...SLOW);
    t.teardown(() => {
      tc(h5.namespace, 'qdisc', 'del', 'dev', 'eth0', 'root');
      tc(null, 'qdisc', 'del', 'dev', h5.veth, 'root');
    });
    const r = run('--retest');
    t.equal(r.code, 3, 'exit 3: all measured, some pairs below their thresholds');
    t.equal(r.doc.summary.pairs_ok, 20, 'every pair was measured');
    t.same(failing(r.doc), h5Pairs, 'the verdicts fail exactly h5\'s pairs');
    t.equal(schemaErrors(r.doc), '');
    const bad = r.doc.sources.h1!.destinations.h5!;
    t.match(bad.summary.reasons, [{ threshold: 'min_percent_of_median', limit: 50 }], 'the reason names the threshold');
    t.ok(bad.summary.throughput_bps < 0.2 * r.doc.summary.median_pair_throughput_bps!, 'well below the median pair');
    t.match(r.doc.summary.suspects[0], { kind: 'host', host: 'h5', direction: 'both', pairs: 8 }, 'h5, both ways, first');
    t.ok(r.doc.summary.suspects[0]!.confidence >= 0.9, `confidence ${r.doc.summary.suspects[0]!.confidence}`);
    t.match(r.stdout, /suspects, most likely first:\n {2}1\. host h5 \(both\)/, 'printed under the matrix');
    t.match(r.stdout, /h1 +·.*Mbit\/s!/, 'failing cells are marked');
    // --retest: both readings kept; alone h5 is still slow, so it is broken, not contended.
    t.equal(r.doc.run.parameters.retest, true);
    for (const p of h5Pairs) {
      const [s, d] = p.split('>');
      const pair = r.doc.sources[s!]!.destinations[d!]!;
      t.ok(pair.retest, `${p} measured again`);
      t.ok(pair.instances.length > 0 && pair.retest!.instances.length === pair.instances.length, 'both readings, each with its instances');
      t.equal(pair.retest!.summary.verdict, 'fail', `${p} alone still fails (${Math.round(pair.retest!.summary.throughput_bps / 1e6)} Mbit/s)`);
      t.ok(pair.retest!.instances.every((i) => i.round >= 1), 'in rounds of their own, after the mesh');
    }
    t.notOk(r.doc.sources.h1!.destinations.h2!.retest, 'a passing pair is not re-tested');
    t.equal(r.doc.run.rounds.length, 1, 'the re-tests are no round of the mesh');
    t.equal(r.doc.summary.suspects[0]!.retest, 'broken');
    t.same(await leftovers(lab), [], 'nothing left running');
  });

  t.test('egress only: the suspect is h5\'s egress', async (t) => {
    tc(h5.namespace, 'qdisc', 'add', 'dev', 'eth0', 'root', ...SLOW);
    t.teardown(() => tc(h5.namespace, 'qdisc', 'del', 'dev', 'eth0', 'root'));
    const r = run();
    t.equal(r.code, 3);
    t.match(r.doc.summary.suspects[0], { kind: 'host', host: 'h5', direction: 'egress' }, r.doc.summary.suspects[0]?.evidence);
    t.equal(r.doc.summary.suspects.length, 1, 'one cause, not one per peer');
    for (const h of ['h1', 'h2', 'h3', 'h4']) t.equal(r.doc.sources.h5!.destinations[h]!.summary.verdict, 'fail', `h5>${h} fails`);
  });

  t.test('ingress only: the suspect is h5\'s ingress', async (t) => {
    tc(null, 'qdisc', 'add', 'dev', h5.veth, 'root', ...SLOW);
    t.teardown(() => tc(null, 'qdisc', 'del', 'dev', h5.veth, 'root'));
    const r = run();
    t.equal(r.code, 3);
    t.match(r.doc.summary.suspects[0], { kind: 'host', host: 'h5', direction: 'ingress' }, r.doc.summary.suspects[0]?.evidence);
    t.equal(r.doc.summary.suspects.length, 1);
    for (const h of ['h1', 'h2', 'h3', 'h4']) t.equal(r.doc.sources[h]!.destinations.h5!.summary.verdict, 'fail', `${h}>h5 fails`);
  });

  t.test('UDP losing 30 % into h5: per-pair loss, those pairs fail, h5 ingress is the suspect', async (t) => {
    // nft, not netem (not every kernel has sch_netem): drop 30 % of the UDP data arriving at h5.
    // Only data: iperf3's UDP handshake is one small datagram, and a client whose handshake is
    // lost waits for ever (it would fail as a timeout, which is another test).
    const nft = (rules: string) => execFileSync('ip', ['netns', 'exec', h5.namespace, 'nft', '-f', '-'], { input: rules });
    nft('table inet lossy {\n chain in {\n type filter hook input priority 0;\n udp dport 5201-5999 meta length > 200 numgen random mod 100 < 30 drop\n }\n}\n');
    t.teardown(() => nft('delete table inet lossy'));
    const r = run('--udp', '--bitrate', '20M', '--processes', '1', '--metric', 'loss');
    t.equal(r.code, 3, r.stderr);
    t.equal(schemaErrors(r.doc), '');
    for (const [s, { destinations }] of Object.entries(r.doc.sources)) {
      for (const [d, p] of Object.entries(destinations)) {
        const sum = p.summary;
        t.equal(sum.retransmits, null, 'UDP has no retransmits: null, not 0');
        t.equal(sum.rtt_mean_us, null);
        const lost = p.instances.reduce((a, i) => a + i.metrics.lost_packets!, 0);
        const sent = p.instances.reduce((a, i) => a + i.metrics.packets!, 0);
        t.equal(sum.lost_packets, lost, 'lost packets summed');
        t.equal(sum.lost_percent, Math.round((lost / sent) * 1e6) / 1e4, 'percent from the sums');
        t.ok(sum.jitter_ms !== null && sum.jitter_ms >= 0, 'jitter of the worst instance');
        if (d === 'h5') {
          t.ok(sum.lost_percent! > 20 && sum.lost_percent! < 40, `${s}>h5 lost ${sum.lost_percent} %`);
          t.match(sum.reasons, [{ threshold: 'max_loss_percent', limit: 1 }]);
        } else t.equal(sum.verdict, 'pass', `${s}>${d} lost ${sum.lost_percent} %`);
      }
    }
    t.match(r.doc.summary.suspects[0], { kind: 'host', host: 'h5', direction: 'ingress' });
    t.match(r.stdout, /loss per pair:\nsrc \\ dst/, 'the matrix shows loss');
    t.match(r.stdout, /h1 +· +\d+\.\d\d % +\d+\.\d\d % +\d+\.\d\d % +[23]\d\.\d\d %!/, 'h1\'s row: loss into h5 marked failing');
  });
});
