// The controller checks what hosts answer, as the daemon checks what it is asked: a host whose
// `node` is not Node.js running meshperf's daemon (here a program that says ready, then answers
// hello with the wrong types) fails as protocol_error naming the request and the field, and
// nothing it said reaches the results. Real sshd, real lab.
import t from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseInventory } from '../lib/inventory/load.js';
import { PROTOCOL_VERSION } from '../lib/protocol/messages.js';
import { runMesh } from '../lib/index.js';
import { canRunLab, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

const skip = !canRunLab && NO_LAB_REASON;

/** A stand-in for `node`: the loader's first word and a ready line, then a hello of wrong types. */
const IMPOSTOR = `
process.stderr.write('meshperf-loader: started\\n');
const say = (m) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\\n');
say({ method: 'meshperf.ready', params: { protocol: ${PROTOCOL_VERSION}, daemon_version: '9.9.9', pid: process.pid } });
let buf = '';
process.stdin.on('data', (c) => {
  buf += c;
  for (let i; (i = buf.indexOf('\\n')) >= 0; buf = buf.slice(i + 1)) {
    let msg;
    try { msg = JSON.parse(buf.slice(0, i)); } catch { continue; }
    if (msg.method === 'hello') say({ id: msg.id, result: { protocol: ${PROTOCOL_VERSION}, daemon_version: '9.9.9', node_version: 'v20', hostname: 'IMPOSTOR-HOSTNAME', pid: process.pid, platform: 'linux', cpus: [0], max_processes: null, memory_total_bytes: 1, memory_free_bytes: 1, cpu_limit_cores: null, iperf3_path: 'iperf3', iperf3_version: 3, iperf3_error: null, time_ms: Date.now() } });
    else if (msg.id !== undefined) say({ id: msg.id, result: {} });
  }
});
process.stdin.on('end', () => process.exit(0));
`;

t.test('an impostor answering hello with wrong types fails as protocol_error; the others are measured', { skip }, async (t) => {
  const lab = await withLab(t, 3, '198.19.191.0/24');
  const script = path.join(lab.tmp, 'impostor.js');
  const node = path.join(lab.tmp, 'node');
  writeFileSync(script, IMPOSTOR);
  writeFileSync(node, `#!/bin/sh\nexec ${process.execPath} ${script}\n`);
  chmodSync(node, 0o755);
  const toml = readFileSync(lab.inventory, 'utf8').replace(/(name = "h3"\n[^\[]*?address = "[^"]+")/, `$1\nnode = "${node}"`);
  t.match(toml, new RegExp(`name = "h3"[\\s\\S]*node = "${node}"`), 'h3 runs the impostor');
  const doc = await runMesh({ inventory: parseInventory(toml, 'impostor.toml'), test: { duration: 1 } });

  const h3 = doc.run.hosts.find((h) => h.name === 'h3')!;
  t.equal(h3.status, 'failed');
  t.equal(h3.error?.code, 'protocol_error', 'its own code, not unreachable');
  t.match(h3.error?.message, /in its answer to hello, result\.iperf3_version must be a string, not 3/, 'names the request and the field');
  t.notMatch(h3.error?.message, /is not a function|TypeError/, 'no JavaScript error as the message');
  t.notMatch(JSON.stringify(doc), /IMPOSTOR-HOSTNAME|9\.9\.9/, 'nothing it said reaches the results');
  t.equal(doc.sources.h1!.destinations.h2!.summary.status, 'ok', 'h1 and h2 measured each other');
  const skipped = doc.sources.h1!.destinations.h3!.summary;
  t.equal(skipped.status, 'skipped');
  t.equal(skipped.error?.code, 'protocol_error', 'pairs with h3 say why they were skipped');
  t.equal(schemaErrors(doc), '', 'the results still fit the schema');
});
