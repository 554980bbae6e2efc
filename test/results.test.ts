// The results code without root or network: buildResults, the metrics read from iperf3's JSON,
// the CSV and the matrix, from records shaped as the daemon returns them.
import t from 'tap';
import { normalizeInventory } from '../lib/inventory/load.js';
import { planFlows } from '../lib/mesh/plan.js';
import type { InstanceRecord } from '../lib/protocol/messages.js';
import { buildResults, type BuildInput } from '../lib/results/build.js';
import { clientMetrics } from '../lib/results/metrics.js';
import { toCsv } from '../lib/results/write.js';
import { formatMatrix } from '../lib/report/matrix.js';
import type { HostResult } from '../lib/results/types.js';
import { schemaErrors } from './helpers/schema.js';

const inv = normalizeInventory({ test: { duration: 2 }, hosts: ['a', 'b', 'c'].map((n, i) => ({ name: n, address: `198.19.1.${i + 1}` })) });
const T0 = Date.parse('2026-11-25T10:00:00.000Z');

/** An iperf3 -J client document: `bytes` received over 2 s, and a UDP variant. */
function iperfDoc(bytes: number, o: { udp?: boolean; error?: string; intervalsOnly?: boolean } = {}): unknown {
  const sum = { start: 0, end: 2, seconds: 2, bytes, bits_per_second: (bytes * 8) / 2 };
  const doc: Record<string, unknown> = {
    start: { version: 'iperf 3.12', connected: [{ local_port: 40000 }], test_start: { protocol: o.udp ? 'UDP' : 'TCP' } },
    intervals: [0, 1].map((s) => ({ sum: { start: s, end: s + 1, seconds: 1, bytes: bytes / 2, bits_per_second: bytes * 4 } })),
  };
  if (!o.intervalsOnly) {
    doc.end = o.udp
      ? { sum_sent: sum, sum_received: { ...sum, jitter_ms: 0.05, lost_packets: 10, packets: 1000, lost_percent: 1 }, streams: [{ udp: { out_of_order: 2 } }] }
      : { sum_sent: { ...sum, retransmits: 3 }, sum_received: sum, streams: [{ sender: { min_rtt: 50, mean_rtt: 80, max_rtt: 200 } }] };
  }
  if (o.error) doc.error = o.error;
  return doc;
}

function record(id: string, role: 'client' | 'server', doc: unknown, extra: Partial<InstanceRecord> = {}): InstanceRecord {
  const [source, rest] = id.split('>') as [string, string];
  const [destination, k] = rest.split('#') as [string, string];
  return {
    id, source, destination, instance: Number(k), role, state: 'exited', daemon_pid: 1, pid: 100, cpu: 0, port: 5201, address: '198.19.1.9',
    argv: ['iperf3', '-t', '2'], started_at: T0, ended_at: T0 + 2000, exit_code: 0, signal: null, stderr: '', iperf3: doc, timed_out: false,
    scheduled_at: T0, iperf3_version: '3.12', released_at: role === 'server' ? T0 : null, traffic_started_at: role === 'client' ? T0 + 5 : null, ...extra,
  };
}

const hosts = (failed: Record<string, string> = {}): HostResult[] =>
  inv.hosts.map((h) => ({ name: h.name, address: h.address, status: failed[h.name] ? 'failed' : 'ok', error: failed[h.name] ? { code: 'unreachable', message: failed[h.name]! } : null, clock_offset_ms: 0 }));

function input(over: Partial<BuildInput>): BuildInput {
  return {
    runId: 'r', startedAt: new Date(T0), finishedAt: new Date(T0 + 3000), interrupted: false, interruptedAt: null,
    test: inv.test, processes: 1, transport: 'ssh', hosts: hosts(), flows: [], rounds: [], records: [], ...over,
  };
}

t.test('an all-at-once mesh: pairs sum their instances, the summary counts, CSV and matrix agree', async (t) => {
  const flows = planFlows(inv.hosts, 1, inv.test);
  const records = flows.flatMap((f, i) => [record(f.id, 'client', iperfDoc(1e8 * (i + 1))), record(f.id, 'server', {})]);
  const doc = buildResults(input({ flows, records, rounds: [{ round: 0, scheduled_at: T0, flows: 6, errors: {} }] }));
  t.equal(schemaErrors(doc), '');
  t.equal(doc.summary.pairs_ok, 6);
  t.equal(doc.sources.a!.destinations.b!.summary.throughput_bps, 4e8, 'a>b: 1e8 bytes in 2 s');
  const total = [1, 2, 3, 4, 5, 6].reduce((a, i) => a + 4e8 * i, 0);
  t.equal(doc.summary.aggregate_throughput_bps, total, 'one round: the aggregate is every pair at once');
  t.equal(doc.summary.total_throughput_bps, total);
  t.equal(doc.run.rounds[0]!.aggregate_throughput_bps, total);
  t.equal(toCsv(doc).trim().split('\n').length, 7, 'header + 6 rows');
  t.match(formatMatrix(doc), /6\/6 pairs ok, 6\/6 iperf3 instances ok, aggregate 8\.40 Gbit\/s/);
});

t.test('rounds: the aggregate is the busiest round, not the sum of rounds that never overlapped', async (t) => {
  const test = { ...inv.test, schedule: 'rounds' as const };
  const flows = planFlows(inv.hosts, 1, test);
  const records = flows.map((f) => record(f.id, 'client', iperfDoc(f.round === 0 ? 1e8 : 2e8)));
  const doc = buildResults(input({ test, flows, records, rounds: [0, 1].map((r) => ({ round: r, scheduled_at: T0 + r * 3000, flows: 3, errors: {} })) }));
  t.same(doc.run.rounds.map((r) => r.aggregate_throughput_bps), [12e8, 24e8]);
  t.equal(doc.summary.aggregate_throughput_bps, 24e8);
  t.equal(doc.summary.total_throughput_bps, 36e8);
  t.match(formatMatrix(doc), /busiest round 2\.40 Gbit\/s at once \(2 rounds, one after another\)/);
});

t.test('a round\'s error blames only that round\'s flows of the host', async (t) => {
  const test = { ...inv.test, schedule: 'rounds' as const };
  const flows = planFlows(inv.hosts, 1, test);
  const records = flows.filter((f) => !(f.round === 1 && f.client.name === 'a')).map((f) => record(f.id, 'client', iperfDoc(1e8)));
  const errors = { a: { code: 'start_clients' as const, message: 'no answer' } };
  const doc = buildResults(input({ test, flows, records, rounds: [{ round: 0, scheduled_at: T0, flows: 3, errors: {} }, { round: 1, scheduled_at: T0, flows: 3, errors }] }));
  const aFlows = Object.values(doc.sources.a!.destinations).flatMap((p) => p.instances);
  t.same(aFlows.map((i) => [i.round, i.status]).sort(), [[0, 'ok'], [1, 'failed']], 'round 0 of a stays ok');
  t.equal(aFlows.find((i) => i.round === 1)!.error!.code, 'start_clients');
});

t.test('a host that never joined: its pairs are skipped with its code; the others stand', async (t) => {
  const live = inv.hosts.filter((h) => h.name !== 'c');
  const flows = planFlows(live, 1, inv.test);
  const doc = buildResults(input({ hosts: hosts({ c: 'cannot connect' }), flows, records: flows.map((f) => record(f.id, 'client', iperfDoc(1e8))), rounds: [{ round: 0, scheduled_at: T0, flows: 2, errors: {} }] }));
  t.equal(schemaErrors(doc), '');
  t.equal(doc.sources.a!.destinations.c!.summary.status, 'skipped');
  t.equal(doc.sources.c!.destinations.b!.summary.error!.code, 'unreachable');
  t.equal(doc.summary.pairs_ok, 2);
  t.match(formatMatrix(doc), /skip:unreachable/);
});

t.test('sample: a host that never joined adds no pairs the plan did not choose; one lost after the plan skips its own', async (t) => {
  const five = normalizeInventory({ test: { duration: 2 }, hosts: ['a', 'b', 'c', 'd', 'e'].map((n, i) => ({ name: n, address: `198.19.1.${i + 1}` })) });
  const test = { ...five.test, schedule: 'sample' as const, peers: 1, seed: 7 };
  const live = five.hosts.filter((h) => h.name !== 'e');
  const flows = planFlows(live, 1, test);
  // d was in the plan and lost before its clients ran: its own pairs (one out, one in) are skipped.
  const failed: Record<string, string> = { e: 'cannot connect', d: 'lost' };
  const status = (name: string): HostResult => ({ name, address: '198.19.1.9', status: failed[name] ? 'failed' : 'ok', error: failed[name] ? { code: 'unreachable', message: failed[name] } : null, clock_offset_ms: 0 });
  const records = flows.filter((f) => f.client.name !== 'd' && f.server.name !== 'd').map((f) => record(f.id, 'client', iperfDoc(1e8)));
  const doc = buildResults(input({ test, hosts: five.hosts.map((h) => status(h.name)), flows, records, rounds: [{ round: 0, scheduled_at: T0, flows: 4, errors: {} }] }));
  t.equal(schemaErrors(doc), '');
  t.equal(flows.length, 4, 'the plan: each of 4 live hosts sends to 1 peer');
  t.same(Object.keys(doc.sources.e!.destinations), [], 'e never joined: no pairs of its own');
  t.notOk(Object.values(doc.sources).some((s) => 'e' in s.destinations), 'and none into it');
  t.equal(doc.summary.pairs, 4, 'only the planned pairs are counted');
  t.equal(doc.summary.pairs_skipped, 2, "d's planned pairs, one each way");
  t.equal(doc.run.coverage.pairs, 4);
  t.equal(doc.run.coverage.possible_pairs, 20);
});

t.test('interrupted: an instance cut short keeps the throughput of its intervals', async (t) => {
  const flows = planFlows(inv.hosts.slice(0, 2), 1, inv.test);
  const cut = iperfDoc(5e7, { intervalsOnly: true, error: 'interrupt - the client has terminated' });
  const records = flows.flatMap((f) => [record(f.id, 'client', cut, { exit_code: 1, ended_at: T0 + 1500 }), record(f.id, 'server', cut)]);
  const doc = buildResults(input({ hosts: hosts().slice(0, 2), flows, records, interrupted: true, interruptedAt: T0 + 1000, rounds: [{ round: 0, scheduled_at: T0, flows: 2, errors: {} }] }));
  t.equal(schemaErrors(doc), '');
  const i = doc.sources.a!.destinations.b!.instances[0]!;
  t.equal(i.status, 'interrupted');
  t.equal(i.error!.code, 'interrupted');
  t.equal(i.metrics.throughput_bps, 2e8, 'bytes over seconds of the intervals');
  t.equal(doc.summary.pairs_interrupted, 2);
  t.match(formatMatrix(doc), /run interrupted: 2 instances stopped early kept what they measured/);
});

t.test('interrupted before its first interval: no reading, so no pass, and not in the median', async (t) => {
  const flows = planFlows(inv.hosts, 1, inv.test);
  // a's four pairs were stopped before iperf3 printed an interval (most pairs, as when a large
  // mesh is interrupted in its first second); b>c and c>b read 100 Mbit/s.
  const early = (id: string) => id.includes('a');
  const records = flows.flatMap((f) => {
    const doc = early(f.id) ? { start: { version: 'iperf 3.12' }, intervals: [], error: 'interrupt - the client has terminated' } : iperfDoc(2.5e7);
    return [record(f.id, 'client', doc, { exit_code: early(f.id) ? 1 : 0, ended_at: T0 + (early(f.id) ? 1500 : 2000) }), record(f.id, 'server', doc)];
  });
  const doc = buildResults(input({ flows, records, interrupted: true, interruptedAt: T0 + 1000, rounds: [{ round: 0, scheduled_at: T0, flows: 6, errors: {} }] }));
  t.equal(schemaErrors(doc), '');
  const ab = doc.sources.a!.destinations.b!.summary;
  t.equal(ab.status, 'interrupted');
  t.equal(ab.throughput_bps, 0);
  t.equal(ab.verdict, 'fail', 'a pair that read nothing does not pass');
  t.match(ab.reasons, [{ threshold: 'status', message: /^not measured: interrupted/ }]);
  t.equal(doc.summary.median_pair_throughput_bps, 1e8, 'the median is of the pairs that read something');
  t.equal(doc.sources.b!.destinations.c!.summary.verdict, 'pass');
  t.same(doc.summary.suspects, [], 'nothing unmeasured is a suspect');
});

t.test('metrics: TCP has retransmits and RTT, UDP loss and jitter; what does not apply is null', async (t) => {
  const tcp = clientMetrics(iperfDoc(1e8));
  t.same([tcp.retransmits, tcp.rtt_min_us, tcp.rtt_mean_us, tcp.rtt_max_us, tcp.jitter_ms, tcp.lost_packets], [3, 50, 80, 200, null, null]);
  const udp = clientMetrics(iperfDoc(1e8, { udp: true }));
  t.same([udp.jitter_ms, udp.lost_packets, udp.packets, udp.lost_percent, udp.out_of_order], [0.05, 10, 1000, 1, 2]);
  t.same(clientMetrics(null).throughput_bps, null, 'no document, no numbers');
});

t.test('the way a host fails: what each side moves on average, not its best pair', async (t) => {
  const inv5 = normalizeInventory({ test: { duration: 2 }, hosts: ['a', 'b', 'c', 'd', 'e'].map((n, i) => ({ name: n, address: `198.19.1.${i + 1}` })) });
  const flows = planFlows(inv5.hosts, 1, inv5.test);
  // Every pair reads 800 Mbit/s but e's: its receives 25 Mbit/s each (a 100 Mbit/s cap shared by
  // four), its sends as given (Mbit/s, to a, b, c, d).
  const direction = (sends: number[]) => {
    const mbit = (id: string) => (id.startsWith('e>') ? sends['abcd'.indexOf(id[2]!)]! : id.startsWith('e', 2) ? 25 : 800);
    const records = flows.flatMap((f) => [record(f.id, 'client', iperfDoc(mbit(f.id) * 2.5e5)), record(f.id, 'server', {})]);
    const doc = buildResults({ ...input({ flows, records, rounds: [{ round: 0, scheduled_at: T0, flows: 20, errors: {} }] }), test: inv5.test, hosts: inv5.hosts.map((h) => ({ name: h.name, address: h.address, status: 'ok' as const, error: null, clock_offset_ms: 0 })) });
    t.match(doc.summary.suspects[0], { kind: 'host', host: 'e' });
    return doc.summary.suspects[0]!.direction;
  };
  t.equal(direction([800, 800, 800, 800]), 'ingress', 'sends at the mesh\'s rate: ingress only');
  t.equal(direction([60, 60, 60, 60]), 'ingress', 'sends slowed by their ACKs, yet 2.4x what it receives: ingress');
  t.equal(direction([90, 20, 20, 20]), 'both', 'one send at 3.6x, the mean 1.4x what it receives: both ways capped');
  t.equal(direction([25, 25, 25, 25]), 'both');
  t.equal(direction([10, 10, 10, 10]), 'egress', 'sends at 0.4x what it receives: egress');
});

t.test('a suspect\'s evidence is true: a host held back by its CPU quota says so; a side with nothing measured says "not measured"', async (t) => {
  const inv5 = normalizeInventory({ test: { duration: 2 }, hosts: ['a', 'b', 'c', 'd', 'e'].map((n, i) => ({ name: n, address: `198.19.1.${i + 1}` })) });
  const flows = planFlows(inv5.hosts, 1, inv5.test);
  const sample = (throttled: number) => ({ time_ms: T0 + 1000, active: 8, host_cpu_percent: 40, host_memory_free_bytes: 1e9, load_average_1m: 1, daemon_cpu_percent: 1, daemon_rss_bytes: 5e7, cpu_throttled_percent: throttled });
  const build = (sendsMeasured: boolean, throttled: number | null) => {
    const records = flows.flatMap((f) => {
      const fromE = f.id.startsWith('e>');
      const client = fromE && !sendsMeasured ? record(f.id, 'client', { start: { version: 'iperf 3.12' }, intervals: [], error: 'unable to connect to server' }, { exit_code: 1 }) : record(f.id, 'client', iperfDoc((fromE || f.id.startsWith('e', 2) ? 20 : 800) * 2.5e5));
      return [client, record(f.id, 'server', {})];
    });
    const hosts = inv5.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      status: 'ok' as const,
      error: null,
      clock_offset_ms: 0,
      ...(h.name === 'e' && throttled !== null ? { cpu_limit_cores: 0.01, health: [sample(throttled), sample(throttled), sample(throttled)] } : {}),
    }));
    const doc = buildResults({ ...input({ flows, records, rounds: [{ round: 0, scheduled_at: T0, flows: 20, errors: {} }] }), test: inv5.test, hosts });
    t.equal(schemaErrors(doc), '');
    t.match(doc.summary.suspects[0], { kind: 'host', host: 'e' });
    return doc.summary.suspects[0]!.evidence;
  };
  const starved = build(true, 97);
  t.match(starved, /: starved of CPU: its cgroup allows 0\.01 cores and held it back in 97 % of periods while it tested \(median of 3 samples\); its NIC or link may be fine$/);
  t.notMatch(build(true, 3), /starved/, 'a quota that barely bit is not the cause');
  t.notMatch(build(true, null), /starved/, 'nor is a host without one');
  const unsent = build(false, null);
  t.match(unsent, /^e sends: not measured \(no pair from it has a reading\) and receives at /);
  t.notMatch(unsent, /0\/0/);
});

t.test('a client killed for running over keeps the seconds it measured: failed (timeout), its rate from its intervals, the pair partial', async (t) => {
  const flows = planFlows(inv.hosts, 1, inv.test);
  const hung = (id: string) => id === 'a>b#0';
  const records = flows.flatMap((f) => {
    if (!hung(f.id)) return [record(f.id, 'client', iperfDoc(2.5e7)), record(f.id, 'server', iperfDoc(2.5e7))];
    // Killed at its grace: iperf3 printed what it had, intervals and no end.
    const partial = { start: { version: 'iperf 3.12' }, intervals: [{ sum: { start: 0, end: 1, seconds: 1, bytes: 1.25e7, bits_per_second: 1e8 } }], error: 'interrupt - the client has terminated' };
    return [record(f.id, 'client', partial, { exit_code: null, signal: 'SIGTERM', timed_out: true, ended_at: T0 + 12_000 }), record(f.id, 'server', partial)];
  });
  const doc = buildResults(input({ flows, records }));
  t.equal(schemaErrors(doc), '');
  const ab = doc.sources.a!.destinations.b!;
  t.equal(ab.instances[0]!.status, 'failed');
  t.equal(ab.instances[0]!.error?.code, 'timeout');
  t.equal(ab.instances[0]!.metrics.throughput_bps, 1e8, 'what it measured before it hung: 12.5 MB in 1 s');
  t.equal(ab.summary.status, 'partial', 'measured, but not to its end');
  t.equal(ab.summary.throughput_bps, 1e8);
  t.equal(doc.sources.b!.destinations.a!.summary.status, 'ok');
});
