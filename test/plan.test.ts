import t from 'tap';
import { normalizeInventory } from '../lib/inventory/load.js';
import { autoProcesses, planClients, planFlows, planRun, planServers, portRangeProblem } from '../lib/mesh/plan.js';
import { scheduleRounds } from '../lib/mesh/schedules.js';

const inv = normalizeInventory({
  test: { duration: 3, parallel: 4 },
  hosts: [
    { name: 'a', address: '198.19.1.1' },
    { name: 'b', address: '198.19.1.2', test: { bitrate: '500M', window: '256K' } },
    { name: 'c', address: '198.19.1.3' },
  ],
});
const hosts = inv.hosts;

t.test('each host serves K instances for every peer, on its own address', async (t) => {
  const plan = planServers(hosts, planFlows(hosts, 2, inv.test));
  t.same(plan.get('a')!.map((s) => s.id), ['b>a#0', 'b>a#1', 'c>a#0', 'c>a#1']);
  t.ok(plan.get('a')!.every((s) => s.bind === '198.19.1.1' && s.destination === 'a'));
  t.equal([...plan.values()].flat().length, 3 * 2 * 2, 'N·(N−1)·K servers in all');
});

t.test('clients go only to servers that started, at the port their daemon chose, with their host\'s options', async (t) => {
  const ports = new Map([['a>b#0', 5201], ['a>c#0', 5300], ['b>a#0', 5400]]);
  const plan = planClients(hosts, planFlows(hosts, 1, inv.test), ports);
  t.same(plan.get('a'), [
    { id: 'a>b#0', source: 'a', destination: 'b', instance: 0, host: '198.19.1.2', port: 5201, bind: '198.19.1.1', options: { duration: 3, parallel: 4, protocol: 'tcp' } },
    { id: 'a>c#0', source: 'a', destination: 'c', instance: 0, host: '198.19.1.3', port: 5300, bind: '198.19.1.1', options: { duration: 3, parallel: 4, protocol: 'tcp' } },
  ]);
  t.same(plan.get('b')![0]!.options, { duration: 3, parallel: 4, protocol: 'tcp', bitrate: 500e6, window: 262144 }, 'b\'s own bitrate and window apply to its clients');
  t.same(plan.get('c'), [], 'no server for c\'s clients, no client');
});

t.test('reverse puts the client on the receiver; bidir plans each unordered pair once', async (t) => {
  const rev = planFlows(hosts, 1, { ...inv.test, reverse: true });
  const ab = rev.find((f) => f.id === 'a>b#0')!;
  t.equal(ab.client.name, 'b', 'data a -> b, measured by a client on b with -R');
  t.equal(ab.server.name, 'a');
  t.equal(ab.options.reverse, true);
  const bidir = planFlows(hosts, 1, { ...inv.test, bidir: true });
  t.same(bidir.map((f) => f.id), ['a>b#0', 'a>c#0', 'b>c#0']);
});

t.test('schedules: all at once, contention-free rounds, one pair at a time', async (t) => {
  t.same(scheduleRounds(3, 'all'), [[[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]]]);
  for (const n of [2, 3, 4, 5, 8]) {
    const rounds = scheduleRounds(n, 'rounds');
    t.equal(rounds.length, n - 1, `${n} hosts: ${n - 1} rounds`);
    for (const r of rounds) {
      t.same(r.map(([s]) => s).sort(), [...Array(n).keys()], 'every host sends once per round');
      t.same(r.map(([, d]) => d).sort((a, b) => a - b), [...Array(n).keys()], 'every host receives once per round');
      t.ok(r.every(([s, d]) => s !== d));
    }
    const all = rounds.flat().map(([s, d]) => `${s}>${d}`);
    t.equal(new Set(all).size, n * (n - 1), 'every ordered pair exactly once');
  }
  const pw = scheduleRounds(3, 'pairwise');
  t.equal(pw.length, 6);
  t.ok(pw.every((r) => r.length === 1));
});

t.test('sample: k peers out and k in per round, spread evenly, repeatable from its seed', async (t) => {
  for (const [n, k, rounds] of [[6, 2, 3], [10, 3, 4], [50, 4, 5], [7, 1, 6], [4, 9, 2]] as const) {
    const plan = scheduleRounds(n, 'sample', { peers: k, rounds, seed: 42 });
    const kk = Math.min(k, n - 1);
    t.equal(plan.length, rounds, `${n} hosts, ${k} peers: ${rounds} rounds`);
    for (const r of plan) {
      const out = new Map<number, number>();
      const into = new Map<number, number>();
      for (const [s, d] of r) {
        out.set(s, (out.get(s) ?? 0) + 1);
        into.set(d, (into.get(d) ?? 0) + 1);
      }
      t.ok(r.every(([s, d]) => s !== d), 'nobody sends to itself');
      t.same([out.size, into.size], [n, n], 'every host sends and receives');
      t.ok([...out.values(), ...into.values()].every((c) => c === kk), `each to ${kk} peers and from ${kk}, at once`);
      t.equal(new Set(r.map(([s, d]) => `${s}>${d}`)).size, r.length, 'no pair twice in a round');
    }
    const seen = plan.flat().map(([s, d]) => `${s}>${d}`);
    const distinct = new Set(seen).size;
    t.equal(distinct, Math.min(seen.length, n * (n - 1)), 'no pair again before every pair once');
    t.same(scheduleRounds(n, 'sample', { peers: k, rounds, seed: 42 }), plan, 'the same seed, the same sample');
  }
  t.notSame(scheduleRounds(20, 'sample', { peers: 2, seed: 1 }), scheduleRounds(20, 'sample', { peers: 2, seed: 2 }), 'another seed, another sample');
  // Over many seeds, every ordered pair is picked about equally often.
  const counts = new Map<string, number>();
  for (let seed = 0; seed < 400; seed++) for (const [s, d] of scheduleRounds(6, 'sample', { peers: 1, seed })[0]!) counts.set(`${s}>${d}`, (counts.get(`${s}>${d}`) ?? 0) + 1);
  t.equal(counts.size, 30, 'every pair comes up');
  t.ok(Math.max(...counts.values()) < 2.2 * Math.min(...counts.values()), `evenly: ${Math.min(...counts.values())} to ${Math.max(...counts.values())} of 400`);
});

t.test('groups: block against block, every host sending once per round, every pair of groups once', async (t) => {
  const racks = ['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c'];
  const plan = scheduleRounds(racks.length, 'groups', { groups: racks });
  t.equal(plan.length, 2, '3 groups: 2 rounds');
  const blocks = new Set<string>();
  for (const r of plan) {
    t.same(r.map(([s]) => s).sort((x, y) => x - y), [...racks.keys()], 'every host sends once per round');
    t.ok(r.every(([s, d]) => racks[s] !== racks[d]), 'always to another group');
    const perBlock = new Set(r.map(([s, d]) => `${racks[s]}>${racks[d]}`));
    t.equal(perBlock.size, 3, 'each group sends to one other group per round, all at once');
    perBlock.forEach((b) => blocks.add(b));
  }
  t.same([...blocks].sort(), ['a>b', 'a>c', 'b>a', 'b>c', 'c>a', 'c>b'], 'every ordered pair of groups once');
  const even = scheduleRounds(6, 'groups', { groups: ['x', 'x', 'x', 'y', 'y', 'y'] })[0]!;
  t.same(even.map(([, d]) => d).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5], 'groups of one size: every host also receives once (a bisection)');
  const inv = normalizeInventory({ hosts: racks.map((g, i) => ({ name: `h${i}`, address: `198.19.190.${i + 1}`, labels: { rack: g } })) });
  const flows = planFlows(inv.hosts, 1, { ...inv.test, schedule: 'groups', group_by: 'rack' });
  t.equal(flows.length, 16, '8 hosts × 2 rounds');
  t.ok(flows.every((f) => f.src.labels![0] !== f.dst.labels![0]), 'planned across racks only');
});

t.test('auto sizing keeps 2·K·(N−1) processes within the smallest host', async (t) => {
  t.equal(autoProcesses([{ cpus: 16 }, { cpus: 32 }], 2), 8, '16 cpus, 1 peer: 8 clients + 8 servers');
  t.equal(autoProcesses([{ cpus: 64 }, { cpus: 16 }, { cpus: 64 }, { cpus: 64 }, { cpus: 64 }], 5), 2, 'the smallest host decides');
  t.equal(autoProcesses([{ cpus: 2 }, { cpus: 2 }, { cpus: 2 }, { cpus: 2 }], 4), 1, 'never below 1');
  t.equal(autoProcesses([{ cpus: 64, maxProcesses: 8 }, { cpus: 64 }], 2), 4, 'max_processes bounds it');
  t.equal(autoProcesses([{ cpus: 64, freeMemory: 1024 ** 3 }, { cpus: 64 }], 2), 4, 'so does memory: 64 MiB per process out of half the free memory');
});

t.test('servers per round: when every round\'s servers at once exceed the port range or max_processes', async (t) => {
  const four = normalizeInventory({ test: { duration: 2, schedule: 'rounds', processes: 2, port_range: '5201-5202' }, hosts: ['a', 'b', 'c', 'd'].map((n, i) => ({ name: n, address: `198.19.1.${i + 1}` })) });
  const hello = { cpus: [0, 1], max_processes: null, memory_free_bytes: 8 * 1024 ** 3 };
  const plan = (test = four.test, hosts = four.hosts) => planRun(hosts.map((config) => ({ config, hello })), test, 10);
  // rounds: each host serves one peer per round, 2 processes each: 6 servers over 3 rounds, 2 per round.
  t.equal(portRangeProblem(four.test, 4), null, '2 ports hold one round\'s servers: not refused before connecting');
  const small = plan();
  t.equal(small.serversPerRound, true, '6 servers in 2 ports: per round');
  t.equal(small.idleTimeout, 2 + 15 + 10 + 60, 'a server waits for its own round only');
  t.equal(plan({ ...four.test, port_range: [5201, 5206] }).serversPerRound, false, '6 ports: all at the start');
  t.equal(plan({ ...four.test, port_range: [5201, 5206] }).idleTimeout, 3 * (2 + 15) + 10 + 60, 'and each waits for every round before its own');
  t.equal(plan({ ...four.test, schedule: 'all', port_range: [5201, 5206] }).serversPerRound, false, 'one round: nothing to gain');
  t.match(portRangeProblem({ ...four.test, schedule: 'all' }, 4), /holds 2 ports, but each host runs 6 iperf3 servers/, 'all at once in 2 ports: refused before connecting');
  // max_processes 4: 6 servers + 2 clients at once is 8; per round, 2 servers + 2 clients.
  const wide = { ...four.test, port_range: [5201, 5299] as [number, number] };
  const limited = plan(wide, four.hosts.map((h) => ({ ...h, max_processes: 4 })));
  t.equal(limited.serversPerRound, true, 'max_processes 4 fits a round, not the run');
  t.same(limited.refused, [], 'so no host is refused');
  t.equal(limited.flows.length, 24);
  const tight = plan(wide, four.hosts.map((h) => ({ ...h, max_processes: 3 })));
  t.match(tight.refused, [{ host: 'a', message: /needs 4 iperf3 processes at once on this host \(2 servers, 2 clients\), above its max_processes 3/ }], 'below one round: refused, and told what one round needs');
});
