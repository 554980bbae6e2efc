// One error vocabulary: the results schema's enum and the docs' table follow from ERROR_CODES,
// and the daemon's own refusals reach the results under their own names.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, loadInventory, runMesh } from '../lib/index.js';
import { errorCodeSchema, errorTable } from '../lib/schemas/errors.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { eventually } from './helpers/procs.js';
import { schemaErrors } from './helpers/schema.js';

t.test('the schema and docs/results.md list exactly the codes of ERROR_CODES, each with what to do', async (t) => {
  const schema = JSON.parse(readFileSync('schemas/results.schema.json', 'utf8'));
  t.same(schema.definitions.error.oneOf[1].properties.code, errorCodeSchema(), 'schema enum = ERROR_CODES (npm run sync-docs)');
  t.ok(readFileSync('docs/results.md', 'utf8').includes(errorTable()), 'docs/results.md holds the current table (npm run sync-docs)');
  for (const [code, info] of Object.entries(ERROR_CODES)) t.ok(info.fix.length > 10 && info.meaning.length > 10, `${code} says what it means and what to do`);
});

t.test('a port range other programs hold: the host fails as no_free_port (the daemon\'s word), the rest is measured', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 3, '198.19.125.0/24');
  const h3 = lab.network.hosts[2]!;
  // Another program listens on 5201 on h3: of its range 5201-5202 one port is left, two are needed.
  const squatter = spawn('ip', ['netns', 'exec', h3.namespace, 'python3', '-c',
    `import socket,time\ns=socket.socket()\ns.bind(("${h3.address}",5201))\ns.listen()\nprint("up",flush=True)\ntime.sleep(60)`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => squatter.kill('SIGKILL'));
  await new Promise((r) => squatter.stdout.once('data', r));
  const inventory = await loadInventory(lab.inventory);
  inventory.test.port_range = [5201, 5202];
  const doc = await runMesh({ inventory, test: { duration: 1, processes: 1 } });
  t.equal(schemaErrors(doc), '');
  const host = doc.run.hosts.find((h) => h.name === 'h3')!;
  t.equal(host.error?.code, 'no_free_port', 'named by the daemon\'s own code, not the phase ("servers")');
  t.match(host.error?.message, /port_range 5201-5202 has only 1 free ports, 2 needed: widen port_range/);
  t.equal(doc.sources.h1!.destinations.h2!.summary.status, 'ok', 'h1 -> h2 measured');
  t.equal(doc.sources.h2!.destinations.h1!.summary.status, 'ok', 'h2 -> h1 measured');
  t.ok(await eventually(async () => (await leftovers(lab)).length === 0), 'nothing left running');
});
