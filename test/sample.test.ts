// Meshes too large to measure whole: --dry-run shows the plan of 500 hosts without connecting,
// and --schedule sample measures k peers per host per round, repeatably from its seed.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadInventory, runMesh, type ResultsDocument } from 'meshperf';
import { canRunLab, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;

t.test('--dry-run: 500 hosts planned, nothing connected', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-dry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Addresses nobody answers on: a run would fail them all (exit 1); a dry run never tries.
  const file = path.join(dir, 'big.toml');
  writeFileSync(file, '[[hosts]]\nname = "n[1-250]"\naddress = "198.19.186.[1-250]"\n[[hosts]]\nname = "m[1-250]"\naddress = "198.19.187.[1-250]"\n');
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, '--inventory', file, '--dry-run', '--duration', '10', ...args], { encoding: 'utf8' });
  const all = run();
  t.equal(all.status, 0, all.stderr);
  t.match(all.stdout, /^dry run: nothing connected, nothing started\nhosts: 500, schedule all/);
  t.match(all.stdout, /ordered pairs: 249500 of 249500 \(100 %\)\nrounds: 1\n/, 'the ordered pairs and the rounds');
  t.match(all.stdout, /busiest host: 499 servers \(ports\), 499 clients at once, 998 iperf3 processes/);
  // rounds with 2 processes: 998 servers over the run, more than 5201-5999 holds; 2 per round.
  const rounds = run('--schedule', 'rounds', '--processes', '2');
  t.equal(rounds.status, 0, rounds.stderr);
  t.match(rounds.stdout, /busiest host: 2 servers \(ports\) per round, started before each round \(all at once would not fit its port_range or max_processes\), 2 clients at once, 4 iperf3 processes/);
  const sample = JSON.parse(run('--schedule', 'sample', '--peers', '4', '--sample-rounds', '3', '--seed', '9', '--udp', '--bitrate', '100M', '--processes', '1', '--json').stdout);
  t.match(sample, { hosts: 500, schedule: 'sample', sample: { peers: 4, rounds: 3, seed: 9 }, ordered_pairs: 6000, possible_pairs: 249500, rounds: 3, instances: 6000 });
  t.same(sample.per_host, { servers: 12, clients_at_once: 4, processes_at_once: 16, ports: 12 }, 'k per round, k·R servers');
  t.equal(sample.traffic_bytes.total, 6000 * (100e6 / 8) * 10, 'traffic from the bitrate: 100 Mbit/s × 10 s per instance');
  const drawn = JSON.parse(run('--schedule', 'sample', '--json').stdout);
  t.type(drawn.sample.seed, 'number', 'without --seed one is drawn and said');
  // groups: 500 hosts in 10 racks, by their label.
  const racks = path.join(dir, 'racks.toml');
  writeFileSync(racks, Array.from({ length: 10 }, (_, r) => `[[hosts]]\nname = "r${r}h[1-50]"\naddress = "198.19.${186 + (r >> 2)}.[${(r & 3) * 50 + 1}-${(r & 3) * 50 + 50}]"\nlabels = { rack = "r${r}" }\n`).join(''));
  const g = spawnSync(process.execPath, [BIN, '--inventory', racks, '--dry-run', '--json', '--schedule', 'groups', '--group-by', 'rack'], { encoding: 'utf8' });
  t.equal(g.status, 0, g.stderr);
  t.match(JSON.parse(g.stdout), { hosts: 500, schedule: 'groups', rounds: 9, ordered_pairs: 4500, per_host: { clients_at_once: 1 } }, 'groups: 9 rounds, each host to one host of each other rack');
  const unlabelled = run('--schedule', 'groups', '--group-by', 'rack');
  t.equal(unlabelled.status, 2);
  t.match(unlabelled.stderr, /schedule "groups" by "rack": n1, n2, n3, n4, n5 and 495 more have no rack label; give every host one/);
  const bad = run('--schedule', 'sample', '--peers', '0');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--peers must be a whole number from 1 to 10000/);
});

t.test('sample on the lab: k peers out and in per round, coverage recorded, the same again from the seed', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 6, '198.19.185.0/24');
  const inventory = await loadInventory(lab.inventory);
  const test = { duration: 1, schedule: 'sample', peers: 2, sample_rounds: 2, seed: 7, processes: 1 } as const;
  const doc = await runMesh({ inventory, test });
  t.equal(schemaErrors(doc), '');
  t.equal(doc.run.rounds.length, 2, 'two rounds');
  t.match(doc.run.parameters, { schedule: 'sample', peers: 2, sample_rounds: 2, seed: 7 });
  const pairs = (d: ResultsDocument) => Object.entries(d.sources).flatMap(([s, { destinations }]) => Object.keys(destinations).map((dst) => `${s}>${dst}`)).sort();
  t.equal(pairs(doc).length, 24, '6 hosts × 2 peers × 2 rounds');
  t.same(doc.run.coverage, { possible_pairs: 30, pairs: 24, fraction: 0.8 }, 'coverage: the other 6 pairs were not measured');
  t.equal(doc.summary.pairs_ok, 24);
  const instances = Object.values(doc.sources).flatMap((s) => Object.values(s.destinations).flatMap((p) => p.instances.map((i) => ({ ...i, src: i.client!.host, dst: i.server!.host }))));
  for (const r of [0, 1]) {
    for (const h of lab.network.hosts.map((x) => x.name)) {
      t.equal(instances.filter((i) => i.round === r && i.src === h).length, 2, `round ${r}: ${h} sends to 2`);
      t.equal(instances.filter((i) => i.round === r && i.dst === h).length, 2, `round ${r}: ${h} receives from 2`);
    }
  }
  t.same(pairs(await runMesh({ inventory, test })), pairs(doc), 'the same seed measures the same pairs');
});
