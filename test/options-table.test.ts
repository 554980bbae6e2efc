// One option table (lib/shared/options.ts): the schemas and the docs state it as it is, no other
// file of lib/ lists the options, and every entry reaches the flags, the inventory, the daemon's
// checks and the iperf3 argv. A new option added to the table is tested here at once.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { clientArgv } from '../lib/daemon/iperf-args.js';
import { normalizeInventory } from '../lib/inventory/load.js';
import { instanceParametersSchema, inventoryTestSchema, inventoryTuningSchema, optionsTable, parametersSchema } from '../lib/schemas/options.js';
import { CLIENT_OPTIONS, HOST_OPTIONS, OPTION_LIST, OPTIONS, optionArgv, type OptionKey, type OptionSpec } from '../lib/shared/options.js';
import { testOverrides } from '../lib/cli/flags.js';

const json = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

t.test('the schemas and docs/measurement.md state the table as it is (npm run sync-docs)', async (t) => {
  const inventory = json('schemas/inventory.schema.json');
  t.same(inventory.properties.test, inventoryTestSchema(), 'inventory [test]');
  t.same(inventory.definitions.tuning, inventoryTuningSchema(), 'inventory [hosts.test]');
  const results = json('schemas/results.schema.json');
  t.same(results.properties.run.properties.parameters, parametersSchema(), 'results run.parameters');
  t.same(results.definitions.instance.properties.parameters, instanceParametersSchema(), 'results instance parameters');
  t.ok(readFileSync('docs/measurement.md', 'utf8').includes(optionsTable()), 'docs/measurement.md');
  // A default is iperf3's only where iperf3 is given the option.
  const ours = optionsTable().split('\n').filter((row) => / \| — \| /.test(row) && row.includes("iperf3's |"));
  t.same(ours, [], 'meshperf\'s own options never say their default is iperf3\'s');
});

t.test('no other file of lib/ lists the options', async (t) => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  // Options only meshperf has, whose names would show up in a second list of them.
  const names = ['congestion', 'zerocopy', 'no_delay', 'dscp', 'mss'];
  const listing = files('lib')
    .filter((f) => f.endsWith('.ts') && f !== path.join('lib', 'shared', 'options.ts'))
    .filter((f) => names.filter((n) => new RegExp(`['"\`]?\\b${n}\\b['"\`]?\\s*[:,]`).test(readFileSync(f, 'utf8'))).length >= 2);
  t.same(listing, [], 'only lib/shared/options.ts');
});

/** A value each kind of option accepts, as typed in TOML or on the command line. */
function sample(s: OptionSpec): string | number | boolean {
  switch (s.kind) {
    case 'int': return s.max!;
    case 'count': return 2;
    case 'rate': return '500M';
    case 'size': return '256K';
    case 'bool': return true;
    case 'name': return 'reno';
    case 'enum': return s.values!.at(-1)!;
    case 'range': return '6001-6100';
  }
}

const HOSTS = [{ name: 'a', address: '198.19.1.1' }, { name: 'b', address: '198.19.1.2' }];

for (const [key, spec] of OPTION_LIST) {
  t.test(`option ${key}: flag, inventory, daemon check and argv`, async (t) => {
    const raw = sample(spec);
    const inv = normalizeInventory({ test: { [key]: raw }, hosts: HOSTS });
    const value = (inv.test as Record<string, unknown>)[key];
    t.not(value, undefined, `[test] ${key} = ${JSON.stringify(raw)} is read`);
    if (HOST_OPTIONS.includes(key as never)) {
      const h = normalizeInventory({ hosts: [{ ...HOSTS[0], test: { [key]: raw } }, HOSTS[1]] });
      t.same((h.hosts[0]!.test as Record<string, unknown>)[key], value, 'and per host');
    } else {
      t.throws(() => normalizeInventory({ hosts: [{ ...HOSTS[0], test: { [key]: raw } }, HOSTS[1]] }), /unknown key/, 'not per host');
    }
    if (spec.cli) {
      const help = spawnSync(process.execPath, ['bin/meshperf.js', '--help'], { encoding: 'utf8' }).stdout;
      t.match(help, new RegExp(`--${spec.cli.name}\\b`), `--${spec.cli.name} is in --help`);
      const flag = spec.cli.bool || spec.kind === 'bool' ? true : String(raw);
      const camel = spec.cli.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      t.same((testOverrides({ [camel]: flag }) as Record<string, unknown>)[key], value, `--${spec.cli.name} ${flag} sets it as the inventory does`);
    }
    if (CLIENT_OPTIONS.includes(key as never)) {
      const argv = optionArgv({ [key]: value });
      t.equal(argv[0], spec.flag, `it becomes iperf3 ${spec.flag}`);
      const base = { duration: 5, parallel: 1, protocol: 'tcp' as const, [key]: value };
      t.ok(clientArgv('iperf3', '3.17', { host: 'x', port: 5201, cpu: null, options: base }).includes(spec.flag!), 'in the client argv');
    }
  });
}

t.test('rules between options are checked once, the same for every way in', async (t) => {
  t.throws(() => normalizeInventory({ test: { reverse: true, bidir: true }, hosts: HOSTS }), /reverse and bidir exclude each other/);
  t.throws(() => testOverrides({ reverse: true, bidir: true }), /--reverse and --bidir exclude each other/);
  t.equal((OPTIONS as Record<OptionKey, OptionSpec>).bidir.since, '3.7');
  t.throws(() => clientArgv('iperf3', '3.6', { host: 'x', port: 5201, cpu: null, options: { duration: 1, parallel: 1, protocol: 'tcp', bidir: true } }), /--bidir needs iperf3 >= 3\.7/);
});
