// A host held to 1 % of a core by its cgroup, as a container's quota would: busy, not dead. It is
// measured, named the first suspect with the true cause, and the run exits 3 (thresholds failed).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { namespacePids } from '../lib/lab/network.js';
import type { ResultsDocument } from '../lib/results/types.js';
import { canCapCpu, capCpu } from './helpers/cpu-cap.js';
import { eventually } from './helpers/procs.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;
const skip = (!canRunLab && NO_LAB_REASON) || (!canCapCpu && 'no CPU-capped cgroup can be made here (cgroup v1 cpu controller, or v2 with cpu.max)');

t.test('a host at 1 % of a core is measured and named first suspect, starved of CPU; exit 3', { skip, timeout: 300_000 }, async (t) => {
  const lab = await withLab(t, 4, '198.19.141.0/24');
  const h4 = lab.network.hosts[3]!;
  // Its sshd and all it starts: the daemon, every iperf3.
  const cap = capCpu(t, `meshperf-test-starved-${process.pid}`, 0.01, await namespacePids(h4.namespace));
  const before = cap.stat();
  const out = path.join(lab.tmp, 'out');
  // 4 s: time for a few health samples of the starved host, each a status answer it is slow to give.
  const r = spawnSync(process.execPath, [BIN, '--inventory', lab.inventory, '--duration', '4', '--out', out], { encoding: 'utf8', timeout: 280_000 });
  const after = cap.stat();
  t.equal(r.status, 3, `exit 3: thresholds failed (stderr: ${r.stderr.slice(-300)})`);
  const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as ResultsDocument;
  t.equal(schemaErrors(doc), '');
  t.equal(doc.summary.hosts_ok, 4, `no host lost: the starved one was waited for (${JSON.stringify(doc.run.hosts.find((h) => h.error)?.error)})`);
  t.equal(doc.summary.pairs_ok, 12, 'every pair measured');
  const host = doc.run.hosts.find((h) => h.name === 'h4')!;
  t.equal(host.cpu_limit_cores, 0.01, 'its limit, as the cgroup was set');
  // The outside: the kernel's own count of the periods the quota held it back in.
  const share = (100 * (after.throttled - before.throttled)) / (after.periods - before.periods);
  t.ok(share >= 50, `the kernel held h4 back in ${share.toFixed(0)} % of its ${after.periods - before.periods} periods`);
  const first = doc.summary.suspects[0];
  t.match(first, { kind: 'host', host: 'h4' }, 'h4, first suspect');
  t.match(first?.evidence, /starved of CPU: its cgroup allows 0\.01 cores and held it back in \d+ % of periods/, `for the true cause (h4's health: ${JSON.stringify(host.health)})`);
  t.notMatch(r.stdout, /host_lost|skip:/);
  // At 1 % of a core the daemon's own exit takes seconds: gone in bounded time, not at once.
  t.ok(await eventually(async () => (await leftovers(lab)).length === 0, 30_000), 'nothing left running on h4 (its daemon exits at its 1 % of a core)');
});
