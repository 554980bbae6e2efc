// Hosts that cannot take part, each for its own reason, on a real lab: named with a stable
// code, retried only when the cause is transient, and the rest of the mesh still measured.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseInventory } from '../lib/inventory/load.js';
import { renderReport, runMesh, type MeshEvent } from '../lib/index.js';
import { canRunLab, filesOnHost, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

const skip = !canRunLab && NO_LAB_REASON;

function hostBlock(name: string, address: string, extra: Record<string, string> = {}): string {
  return ['[[hosts]]', `name = "${name}"`, `address = "${address}"`, ...Object.entries(extra).map(([k, v]) => `${k} = ${JSON.stringify(v)}`), ''].join('\n');
}

t.test('each reason a host cannot take part gets its code; the others are measured', { skip }, async (t) => {
  const lab = await withLab(t, 7, '198.19.105.0/24');
  const [h1, h2, h3, h4, h5, h6, h7] = lab.network.hosts.map((h) => h.address);
  // A key the hosts do not authorize, and a known_hosts that lists h1's key for h6.
  const strangerKey = path.join(lab.tmp, 'stranger');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strangerKey]);
  const known = readFileSync(path.join(lab.dir, 'known_hosts'), 'utf8');
  const h1Key = known.split('\n').find((l) => l.startsWith(`${h1} `))!.split(' ').slice(1).join(' ');
  const forged = path.join(lab.tmp, 'forged_known_hosts');
  writeFileSync(forged, known.replace(new RegExp(`^${h6.replace(/\./g, '\\.')} .*$`, 'm'), `${h6} ${h1Key}`));
  const h6Fingerprint = execFileSync('ssh-keygen', ['-lf', path.join(lab.dir, 'h6', 'ssh_host_ed25519_key.pub')], { encoding: 'utf8' }).split(' ')[1]!;

  const toml = readFileSync(lab.inventory, 'utf8').replace(/\[\[hosts\]\][\s\S]*$/, '').replace('[ssh]', '[runtime]\npush_node = "never"\n[ssh]\nconnect_timeout = 2\nconnect_attempts = 2') + [
    hostBlock('h1', h1!),
    hostBlock('h2', h2!),
    hostBlock('h3', h3!, { identity_file: strangerKey }),
    hostBlock('h4', h4!, { node: '/nonexistent/node' }),
    hostBlock('h5', h5!, { iperf3: '/nonexistent/iperf3' }),
    hostBlock('h6', h6!, { known_hosts: forged }),
    hostBlock('h7', h7!, { iperf3: '/bin/false' }),
    hostBlock('h8', '198.19.105.99'),
  ].join('');
  const inventory = parseInventory(toml, 'faulty.toml');
  const filesBefore = filesOnHost(lab);
  const events: MeshEvent[] = [];
  const doc = await runMesh({ inventory, test: { duration: 1 }, onEvent: (e) => events.push(e) });

  const host = (n: string) => doc.run.hosts.find((h) => h.name === n)!;
  t.equal(host('h1').status, 'ok');
  t.equal(host('h2').status, 'ok');
  t.equal(host('h3').error?.code, 'auth');
  t.equal(host('h4').error?.code, 'no_node');
  t.match(host('h4').error?.message, /no usable Node\.js \(>= 16\): tried \/nonexistent\/node on PATH=\S+: not found; \[runtime\] push_node = "never"/, 'says what was tried (with push_node = "never"; test/access.test.ts pushes one)');
  t.equal(host('h5').error?.code, 'no_iperf3', 'no iperf3 at that path');
  t.match(host('h5').error?.message, /^iperf3 not found as "\/nonexistent\/iperf3": there is no \/nonexistent\/iperf3; install iperf3 >= 3\.9 on the host \(e\.g\. apt-get install iperf3\), or set hosts\.iperf3 to its absolute path$/, 'says what was looked for and how to fix it');
  t.notMatch(host('h5').error?.message, /spawnSync|ENOENT/, 'not Node\'s raw error');
  t.equal(host('h6').error?.code, 'host_key_mismatch');
  t.match(host('h6').error?.message, new RegExp(`presented ssh-ed25519 ${h6Fingerprint.replace(/[+/]/g, '\\$&')}, which ${forged} does not list`), 'names the fingerprint presented and the file');
  t.equal(host('h7').error?.code, 'no_iperf3', 'an iperf3 that does not run');
  t.equal(host('h8').error?.code, 'unreachable');

  const retried = events.filter((e) => e.type === 'host-retry').map((e) => (e as { host: string }).host);
  t.same(retried, ['h8'], 'only the unreachable host is retried: never auth, host key or missing software');

  t.equal(doc.sources.h1.destinations.h2.summary.status, 'ok', 'the two good hosts measured each other');
  t.equal(doc.sources.h2.destinations.h1.summary.status, 'ok');
  t.equal(doc.sources.h3.destinations.h1.summary.status, 'skipped');
  t.equal(doc.sources.h1.destinations.h6.summary.error?.code, 'host_key_mismatch', 'a skipped pair carries its host\'s reason');
  t.equal(schemaErrors(doc), '');
  // Rates say what they count: 2 of 56 pairs ran, both ok; the other 54 never could.
  t.same([doc.summary.pairs, doc.summary.pairs_ok, doc.summary.pairs_skipped, doc.summary.pairs_measured, doc.summary.pair_success_rate], [56, 2, 54, 2, 1]);
  t.match(renderReport(doc, { format: 'matrix' }), /^2\/56 pairs ok \(54 skipped: a host could not take part; 2\/2 of those measured\), /m, 'the terminal says the rate\'s denominator');
  t.same(host('h1').connections, { as_client: { total: 1, ok: 1, failed: 0, interrupted: 0 }, as_server: { total: 1, ok: 1, failed: 0, interrupted: 0 }, success_rate: 1 }, 'h1 took part in two connections, both ok');
  t.equal(host('h3').connections?.success_rate, null, 'a host that never joined had none');
  t.same(await leftovers(lab), []);

  t.same([...filesOnHost(lab)].filter((f) => !filesBefore.has(f)), [], 'no file written on any host (/tmp, /var/tmp, home)');
});
