/**
 * The meshperf command: a thin shell over the library (runMesh, loadInventory, writeResults,
 * labUp/labDown). Only this layer prints and decides exit codes.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yargs, { Argv } from 'yargs';
import { positiveInt, testFlags, TestFlagArgs, testOverrides, UsageError } from './flags.js';
import { InventoryError, loadInventory, normalizeInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { LabError, labDown, labUp } from '../lab/lab.js';
import { SSHD } from '../lab/sshd.js';
import { newRunId, runMesh } from '../mesh/run.js';
import type { ResultsDocument } from '../results/types.js';
import { writePartial, writeResults } from '../results/write.js';
import type { MeshEventListener } from '../mesh/events.js';
import { formatMatrix } from './matrix.js';
import { askPassphrases } from './passphrase.js';
import { createProgress } from './progress.js';

export const EXIT = { ok: 0, someFailed: 1, usage: 2, interrupted: 130, terminated: 143 } as const;

interface RunArgs extends TestFlagArgs {
  inventory: string;
  out?: string;
  force?: boolean;
  transport?: 'ssh' | 'local';
  acceptNewHostKeys?: boolean;
}

const runOptions = (y: Argv) =>
  testFlags(y)
    .option('inventory', { alias: 'i', type: 'string', describe: 'inventory file (TOML)', demandOption: true })
    .option('out', { alias: 'o', type: 'string', describe: 'output directory (default ./meshperf-results/<run id>)' })
    .option('force', { type: 'boolean', describe: 'write into an --out directory that is not empty' })
    .option('transport', { choices: ['ssh', 'local'] as const, describe: 'how to reach hosts (default: inventory, else ssh)' })
    .option('accept-new-host-keys', { type: 'boolean', describe: 'add unknown host keys to known_hosts (changed keys are still refused)' });

export async function main(argv: string[], out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  let code: number = EXIT.ok;
  const say = (s: string) => out.write(s + '\n');
  const cli = yargs(argv)
    .scriptName('meshperf')
    .usage('$0 --inventory hosts.toml [options]\n\nFull-mesh iperf3 test over SSH: every host a server and a client to every peer.')
    .command('$0', 'run a full-mesh test', runOptions, async (a) => {
      const inventory = await loadInventory(a.inventory);
      code = await runAndReport(inventory, a as RunArgs, say, err);
    })
    .command('lab <action>', 'emulated cluster of network namespaces with sshd (root, Linux)', (y) =>
      y
        .positional('action', { choices: ['up', 'down'] as const, demandOption: true })
        .option('hosts', { alias: 'n', type: 'string', default: '4', describe: 'number of hosts (up)' })
        .option('dir', { alias: 'd', type: 'string', demandOption: true, describe: 'lab directory (keys, configs, hosts.toml)' })
        .option('subnet', { type: 'string', describe: 'a /24 inside 198.18.0.0/15 (default 198.18.0.0/24)' }),
      async (a) => {
        if (a.action === 'down') {
          await labDown(a.dir);
          say(`lab in ${a.dir} is down`);
          return;
        }
        const lab = await labUp({ hosts: positiveInt('hosts', 200)(a.hosts)!, dir: a.dir, subnet: a.subnet });
        say(`lab up: ${lab.network.hosts.map((h) => `${h.name}=${h.address}`).join(' ')}`);
        say(`run:  meshperf --inventory ${lab.inventory}`);
        say(`stop: meshperf lab down --dir ${lab.dir}`);
      },
    )
    .command('demo', 'lab up (4 hosts), run, print the matrix, lab down', (y) =>
      y
        .option('hosts', { type: 'string', default: '4' })
        .option('duration', { type: 'string', default: '5' })
        .option('out', { type: 'string' })
        .option('subnet', { type: 'string', describe: 'the lab\'s /24 inside 198.18.0.0/15 (default 198.18.0.0/24)' }),
      async (a) => {
        const hosts = positiveInt('hosts', 50)(a.hosts)!;
        code = await demo(hosts, positiveInt('duration', 3600)(a.duration)!, a.out, a.subnet, say, err);
      },
    )
    .strict()
    .help()
    .version()
    .exitProcess(false)
    .fail((msg, e) => {
      throw e ?? new UsageError(msg);
    });
  try {
    await cli.parseAsync();
    return code;
  } catch (e) {
    if (e instanceof InventoryError || e instanceof UsageError || e instanceof LabError) {
      err.write(`meshperf: ${e.message}\n`);
      if (e instanceof UsageError) err.write('Run meshperf --help for usage.\n');
      return EXIT.usage;
    }
    err.write(`meshperf: ${(e as Error).message}\n`);
    return EXIT.someFailed;
  }
}

async function runAndReport(inventory: Inventory, a: RunArgs, say: (s: string) => void, err: NodeJS.WriteStream): Promise<number> {
  const test = testOverrides(a);
  const runId = newRunId();
  const outDir = path.resolve(a.out ?? path.join('meshperf-results', runId));
  checkOutDir(outDir, Boolean(a.force));
  if (a.acceptNewHostKeys) {
    inventory.ssh.accept_new_host_keys = true;
    for (const h of inventory.hosts) h.ssh.accept_new_host_keys = true;
  }
  await askPassphrases(inventory, process.stdin, err);
  const controller = new AbortController();
  let signalCode: number = EXIT.interrupted;
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signalCode); // a second Ctrl-C: leave at once
    signalCode = sig === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    err.write(`\nmeshperf: ${sig}: stopping every iperf3, keeping what finished (again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = createProgress(err, Boolean(process.stdout.isTTY), inventory.hosts.length);
  let doc: ResultsDocument;
  try {
    const saving: Promise<unknown>[] = [];
    const onEvent: MeshEventListener = (e) => {
      if (e.type !== 'host-collected') return progress.listener(e);
      // Reported once it is on disk, so "collected" means "safe from a crash of ours".
      saving.push(writePartial(outDir, e.host, e.records).then(() => progress.listener(e), () => progress.listener(e)));
    };
    doc = await runMesh({ inventory, test, transport: a.transport, runId, onEvent, signal: controller.signal });
    await Promise.all(saving);
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const files = await writeResults(doc, outDir);
  say(formatMatrix(doc));
  say(`\nresults: ${files.json}\n         ${files.csv}`);
  if (doc.run.interrupted) return signalCode;
  const s = doc.summary;
  return s.hosts_failed === 0 && s.pairs_ok === s.pairs ? EXIT.ok : EXIT.someFailed;
}

/** An --out that holds files is refused unless --force: results of another run are never mixed. */
function checkOutDir(dir: string, force: boolean): void {
  if (force || !existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${dir} exists and is not a directory`);
  if (readdirSync(dir).length > 0) throw new UsageError(`--out ${dir} is not empty; choose another directory or add --force`);
}

/** The lab when root is available; otherwise the local transport on 127.0.0.x, said so. */
async function demo(hosts: number, duration: number, out: string | undefined, subnet: string | undefined, say: (s: string) => void, err: NodeJS.WriteStream): Promise<number> {
  const args: RunArgs = { inventory: '', duration: String(duration), out };
  if (process.platform === 'linux' && process.getuid?.() === 0 && SSHD) {
    const dir = path.join(os.tmpdir(), `meshperf-demo-${process.pid}`);
    say(`demo: building a ${hosts}-host emulated cluster in ${dir} (namespaces + sshd)`);
    const lab = await labUp({ hosts, dir, subnet });
    try {
      return await runAndReport(await loadInventory(lab.inventory), args, say, err);
    } finally {
      await labDown(dir);
      say('demo: lab removed');
    }
  }
  say('demo: not root on Linux with sshd, so no emulated cluster: running the same daemon locally on 127.0.0.x (transport "local")');
  const inventory = normalizeInventory({
    transport: 'local',
    hosts: Array.from({ length: hosts }, (_, i) => ({ name: `h${i + 1}`, address: `127.0.0.${11 + i}` })),
  }, 'demo');
  return runAndReport(inventory, args, say, err);
}
