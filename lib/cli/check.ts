/** `meshperf check`: the preflight, as a table for people or JSON for automation; exit 0 only when all is well. */
import type { CommandModule } from 'yargs';
import { checkCluster, loadInventory } from '../index.js';
import type { CheckReport, HostCheck } from '../index.js';

type Say = (s: string) => void;

interface CheckArgs {
  inventory: string;
  plane?: string[];
  json?: boolean;
  transport?: 'ssh' | 'local';
  acceptNewHostKeys?: boolean;
}

export function checkCommand(say: Say, setCode: (code: number) => void): CommandModule {
  return {
    command: 'check',
    describe: 'preflight in seconds: connect, runtime, iperf3, clocks, free ports, every pair reachable on its data addresses, MTUs, limits at size',
    builder: (y) =>
      y
        .option('inventory', { alias: 'i', type: 'string', demandOption: true, describe: 'inventory file (TOML)' })
        .option('plane', { type: 'string', array: true, describe: 'planes to check, or "all" (default: the hosts\' address)' })
        .option('json', { type: 'boolean', describe: 'the report as JSON' })
        .option('transport', { choices: ['ssh', 'local'] as const })
        .option('accept-new-host-keys', { type: 'boolean', describe: 'add unknown host keys to known_hosts' }),
    handler: async (argv) => {
      const a = argv as unknown as CheckArgs;
      const inventory = await loadInventory(a.inventory);
      if (a.acceptNewHostKeys) for (const h of inventory.hosts) h.ssh.accept_new_host_keys = true;
      const report = await checkCluster({ inventory, planes: a.plane, transport: a.transport });
      say(a.json ? JSON.stringify(report, null, 2) : formatCheck(report));
      setCode(report.ok ? 0 : 1);
    },
  };
}

const mtus = (h: HostCheck) => (h.interfaces ?? []).map((i) => `${i.name}:${i.mtu ?? '?'}`).join(' ');

export function formatCheck(r: CheckReport): string {
  const rows = r.hosts.map((h) => [
    h.name,
    h.status === 'ok' ? 'ok' : `FAILED ${h.error?.code ?? ''}`,
    h.node_version ?? '',
    h.iperf3_version ?? '',
    h.clock_offset_ms === undefined ? '' : `${h.clock_offset_ms} ms`,
    h.free_ports === undefined ? '' : `${h.free_ports}/${h.ports_needed}`,
    h.status === 'ok' ? `${h.reach.ok}/${h.reach.total}` : '',
    mtus(h),
  ]);
  const table = [['host', 'status', 'node', 'iperf3', 'clock', 'ports free/needed', 'peers reached', 'MTU'], ...rows];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) => row.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd());
  const notes = [
    ...r.hosts.filter((h) => h.error).map((h) => `${h.name}: ${h.error!.code}: ${h.error!.message}`),
    ...r.hosts.flatMap((h) => h.reach.failed.map((f) => `${h.name} -> ${f.peer} (${f.plane}): ${f.error}`)),
    ...r.hosts.flatMap((h) => h.warnings.map((w) => `${h.name}: ${w}`)),
    ...r.warnings,
  ];
  const total = r.hosts.reduce((a, h) => a + h.reach.total, 0);
  const ok = r.hosts.reduce((a, h) => a + h.reach.ok, 0);
  const verdict = r.ok ? `all well: ${r.hosts.length} hosts, ${ok}/${total} connections between data addresses` : `NOT all well: ${r.hosts.filter((h) => h.status !== 'ok').length} host(s) failed, ${total - ok} of ${total} connections failed, ${notes.length} note(s)`;
  return [...lines, '', verdict, ...notes.map((n) => `  ${n}`), `took ${Math.round(Object.values(r.timings).reduce((x, y) => x + y, 0))} ms`].join('\n');
}
