/**
 * The meshperf command: a thin shell over the library (lib/index.ts) and the lab (lib/lab/lab.ts),
 * and nothing else. Only this layer prints and decides exit codes; the process (streams, TTY,
 * signals, environment, exit) is passed in, so that it runs the same in a test.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yargs, { Argv } from 'yargs';
import { dryRun, InventoryError, LabError, LOG_FILE, loadInventory, REPORT_HTML, writeReportHtml, newRunId, normalizeInventory, parseSweep, recoverResults, resultFiles, runMesh, UsageError, writeResults } from '../index.js';
import type { Inventory, ResultsDocument, RunOptions } from '../index.js';
import { labDown, labUp, pickFreeSubnet, SSHD } from '../lab/lab.js';
import { positiveInt, testFlags, TestFlagArgs, testOverrides, thresholdFlags, thresholdOverrides } from './flags.js';
import { formatMatrix, METRICS } from '../index.js';
import type { Metric } from '../index.js';
import { askPassphrases } from './passphrase.js';
import { createProgress, jsonLines, verboseLines } from './progress.js';
import { compareCommand, reportCommand } from './reports.js';
import { formatDryRun } from './dry-run.js';
import { checkCommand } from './check.js';

/** 3: everything was measured, but some pair fails its thresholds (1 wins: something was not measured). */
export const EXIT = { ok: 0, someFailed: 1, usage: 2, thresholds: 3, interrupted: 130, terminated: 143 } as const;

/** What the command needs of the process it runs in. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadStream;
  /** stdout is a terminal: a progress bar instead of lines. */
  tty: boolean;
  env: NodeJS.ProcessEnv;
  /** Call `handler` on SIGINT and SIGTERM; returns how to stop listening. */
  onSignal(handler: (sig: 'SIGINT' | 'SIGTERM') => void): () => void;
  /** Leave at once with this code (a second Ctrl-C). */
  exit(code: number): void;
  /** Whether the lab can be built here (root on Linux). */
  root: boolean;
}

/** The real process. */
export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    tty: Boolean(process.stdout.isTTY),
    env: process.env,
    onSignal(handler) {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
    exit: (code) => process.exit(code),
    root: process.platform === 'linux' && process.getuid?.() === 0,
  };
}

interface RunArgs extends TestFlagArgs {
  inventory: string;
  out?: string;
  force?: boolean;
  transport?: 'ssh' | 'local';
  acceptNewHostKeys?: boolean;
  plane?: string[];
  retest?: boolean;
  metric?: Metric;
  verbose?: boolean;
  json?: boolean;
  pretty?: boolean;
  profile?: string[];
  sweep?: string[];
  repeat?: string;
  findKnee?: boolean;
}

const runOptions = (y: Argv) =>
  thresholdFlags(testFlags(y))
    .option('retest', { type: 'boolean', describe: 'after the mesh, measure each failing pair again alone; both readings are kept', group: 'Thresholds:' })
    .option('metric', { choices: METRICS, default: 'throughput' as Metric, describe: 'what the matrix shows' })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'print every entry of the run\'s log (meshperf.log) as it happens, on stderr' })
    .option('json', { type: 'boolean', describe: 'print the events as JSON lines on stdout instead of the matrix' })
    .option('pretty', { type: 'boolean', describe: 'indent results.json for people (default: compact)' })
    .option('dry-run', { type: 'boolean', describe: 'print the plan (ordered pairs, rounds, processes, ports, duration, traffic) and connect to nothing' })
    .option('inventory', { alias: 'i', type: 'string', describe: 'inventory file (TOML)', demandOption: true })
    .option('out', { alias: 'o', type: 'string', describe: 'output directory (default ./meshperf-results/<run id>)' })
    .option('force', { type: 'boolean', describe: 'write into an --out directory that is not empty' })
    .option('transport', { choices: ['ssh', 'local'] as const, describe: 'how to reach hosts (default: inventory, else ssh)' })
    .option('accept-new-host-keys', { type: 'boolean', describe: 'add unknown host keys to known_hosts (changed keys are still refused)' })
    .option('plane', { type: 'string', array: true, describe: 'plane (rail) of [hosts.planes] to measure, repeatable, or "all"; all in one run (default: the hosts\' address)' })
    .option('profile', { type: 'string', array: true, describe: 'a profile of [profiles.NAME] or a built-in one (tcp-single, tcp-multi, udp-line, reverse), repeatable: one step each', group: 'Campaign:' })
    .option('sweep', { type: 'string', array: true, describe: 'KEY=V1,V2,...: one step per value, the cross-product over several --sweep (e.g. bitrate=100M,400M)', group: 'Campaign:' })
    .option('repeat', { type: 'string', describe: 'runs of each step: each pair gets median, spread and a 95 % confidence interval', group: 'Campaign:' })
    .option('find-knee', { type: 'boolean', describe: 'UDP: step by step, the highest rate each pair carries within max_loss_percent (--bitrate: the highest to try)', group: 'Campaign:' });

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  let code: number = EXIT.ok;
  const say = (s: string) => io.stdout.write(s + '\n');
  const cli = yargs(argv)
    .scriptName('meshperf')
    .usage('$0 --inventory hosts.toml [options]\n\nFull-mesh iperf3 test over SSH: every host a server and a client to every peer.')
    .command('$0', 'run a full-mesh test', runOptions, async (a) => {
      // A mistyped flag is said before anything is read or connected.
      const overrides = { test: testOverrides(a), thresholds: thresholdOverrides(a) };
      const inventory = await loadInventory(a.inventory);
      if (a.dryRun) {
        const plan = dryRun({ inventory, test: overrides.test, planes: a.plane, ...campaignArgs(a) });
        say(a.json ? JSON.stringify(plan) : formatDryRun(plan));
        return;
      }
      code = await runAndReport(inventory, a as RunArgs, overrides, say, io);
    })
    .command('recover <dir>', 'build results.json and results.csv from the journal a crashed run left in its output directory', (y) =>
      y.positional('dir', { type: 'string', demandOption: true, describe: 'the run\'s output directory (holding partial/)' }),
      async (a) => {
        const doc = await recoverResults(a.dir).catch((err: Error) => {
          throw new UsageError(`recover ${a.dir}: ${err.message}`);
        });
        const files = await writeResults(doc, a.dir);
        const html = await writeReportHtml(doc, a.dir);
        say(formatMatrix(doc));
        say(`\nrecovered: ${files.json}\n           ${files.csv}\n           ${html}`);
      },
    )
    .command(checkCommand(say, (c) => (code = c === 0 ? EXIT.ok : EXIT.someFailed)))
    .command(reportCommand(say))
    .command(compareCommand(say, (c) => (code = c === 3 ? EXIT.thresholds : EXIT.ok)))
    .command('lab <action>', 'emulated cluster of network namespaces with sshd (root, Linux)', (y) =>
      y
        .positional('action', { choices: ['up', 'down'] as const, demandOption: true })
        .option('hosts', { alias: 'n', type: 'string', default: '4', describe: 'number of hosts (up)' })
        .option('dir', { alias: 'd', type: 'string', demandOption: true, describe: 'lab directory (keys, configs, hosts.toml)' })
        .option('subnet', { type: 'string', describe: 'a /24 inside 198.18.0.0/15 (default 198.18.0.0/24); rails and the bastion take the next ones' })
        .option('planes', { type: 'string', default: '0', describe: 'data rails beside a management network that alone carries SSH (up)' })
        .option('ipv6', { type: 'boolean', describe: 'rails on IPv6 (2001:2::/48), management on IPv4 (up)' })
        .option('bastion', { type: 'boolean', describe: 'hosts reached only through a jump host, by the aliases of an ssh_config the lab writes (up)' })
        .option('without-node', { type: 'string', default: '0', describe: 'how many hosts (the last ones) have a node that does not run (up)' }),
      async (a) => {
        if (a.action === 'down') {
          await labDown(a.dir);
          say(`lab in ${a.dir} is down`);
          return;
        }
        const lab = await labUp({
          hosts: positiveInt('hosts', 200)(a.hosts)!,
          dir: a.dir,
          subnet: a.subnet,
          rails: positiveInt('planes', 4, 0)(a.planes),
          ipv6: a.ipv6,
          bastion: a.bastion,
          noNode: positiveInt('without-node', 200, 0)(a.withoutNode),
        });
        const rails = (h: (typeof lab.network.hosts)[number]) => h.rails.map((r) => ` ${r.plane}=${r.address}`).join('');
        say(`lab up: ${lab.network.hosts.map((h) => `${h.name}=${h.address}${rails(h)}`).join(' ')}`);
        if (lab.network.bastion) say(`bastion: ${lab.network.bastion.address} (ssh config: ${lab.sshConfig})`);
        say(`run:  meshperf --inventory ${lab.inventory}`);
        say(`stop: meshperf lab down --dir ${lab.dir}`);
      },
    )
    .command('demo', 'lab up (4 hosts), run, print the matrix, lab down', (y) =>
      y
        .option('hosts', { type: 'string', default: '4' })
        .option('duration', { type: 'string', default: '5' })
        .option('out', { type: 'string' })
        .option('subnet', { type: 'string', describe: 'the lab\'s /24 inside 198.18.0.0/15 (default: the first free one from 198.18.0.0/24)' }),
      async (a) => {
        const hosts = positiveInt('hosts', 50)(a.hosts)!;
        code = await demo(hosts, positiveInt('duration', 3600)(a.duration)!, a.out, a.subnet, say, io);
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
      io.stderr.write(`meshperf: ${e.message}\n`);
      if (e instanceof UsageError) io.stderr.write('Run meshperf --help for usage.\n');
      return EXIT.usage;
    }
    io.stderr.write(`meshperf: ${(e as Error).message}\n`);
    return EXIT.someFailed;
  }
}

async function runAndReport(
  inventory: Inventory,
  a: RunArgs,
  { test, thresholds }: { test: ReturnType<typeof testOverrides>; thresholds: ReturnType<typeof thresholdOverrides> },
  say: (s: string) => void,
  io: CliIO,
): Promise<number> {
  const runId = newRunId();
  const out = path.resolve(a.out ?? path.join('meshperf-results', runId));
  checkOutDir(out, Boolean(a.force));
  if (a.acceptNewHostKeys) {
    inventory.ssh.accept_new_host_keys = true;
    for (const h of inventory.hosts) h.ssh.accept_new_host_keys = true;
  }
  await askPassphrases(inventory, io.stdin, io.stderr, io.env, () => io.exit(EXIT.interrupted));
  const controller = new AbortController();
  let signalCode: number = EXIT.interrupted;
  const stopListening = io.onSignal((sig) => {
    if (controller.signal.aborted) return io.exit(signalCode); // a second Ctrl-C: leave at once
    signalCode = sig === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    io.stderr.write(`\nmeshperf: ${sig}: stopping every iperf3, keeping what finished (again to quit at once)\n`);
    controller.abort();
  });
  const progress = a.json ? jsonLines(io.stdout) : a.verbose ? verboseLines(io.stderr) : createProgress(io.stderr, io.tty, inventory.hosts.length);
  let doc: ResultsDocument;
  try {
    doc = await runMesh({ inventory, test, thresholds, retest: a.retest, pretty: a.pretty, transport: a.transport, runId, onEvent: progress.listener, signal: controller.signal, out, planes: a.plane, ...campaignArgs(a) });
  } finally {
    progress.stop();
    stopListening();
  }
  const files = resultFiles(out);
  const code = doc.run.interrupted ? signalCode : exitCode(doc);
  if (a.json) {
    say(JSON.stringify({ ts: new Date().toISOString(), event: 'results', ...files, log: path.join(out, LOG_FILE), exit_code: code }));
    return code;
  }
  say(formatMatrix(doc, a.metric));
  say(`\nresults: ${files.json}\n         ${files.csv}\n         ${path.join(out, REPORT_HTML)}\nlog:     ${path.join(out, LOG_FILE)}`);
  return code;
}

/**
 * 0 all measured and passing; 1 a host or pair not measured; 3 all measured, some pair below its
 * thresholds. A campaign: over every step.
 */
export function exitCode(doc: ResultsDocument): number {
  const all = doc.steps?.map((s) => s.summary) ?? [doc.summary];
  if (all.some((s) => s.hosts_failed > 0 || s.pairs_ok !== s.pairs)) return EXIT.someFailed;
  // With repetitions, a step's pairs are judged on their medians over them.
  const failing = doc.steps?.map((s) => (s.median_summary ?? s.summary).pairs_fail) ?? [doc.summary.pairs_fail];
  return failing.some((n) => n > 0) ? EXIT.thresholds : EXIT.ok;
}

/** --profile, --sweep, --repeat as runMesh takes them (each checked, or a UsageError). */
function campaignArgs(a: RunArgs): Pick<RunOptions, 'profiles' | 'sweep' | 'repeat' | 'findKnee'> {
  return {
    ...(a.profile?.length ? { profiles: a.profile } : {}),
    ...(a.sweep?.length ? { sweep: parseSweep(a.sweep) } : {}),
    ...(a.repeat !== undefined ? { repeat: positiveInt('repeat', 1000)(a.repeat) } : {}),
    ...(a.findKnee ? { findKnee: true } : {}),
  };
}

/** An --out that holds files is refused unless --force: results of another run are never mixed. */
function checkOutDir(dir: string, force: boolean): void {
  if (force || !existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${dir} exists and is not a directory`);
  if (readdirSync(dir).length > 0) throw new UsageError(`--out ${dir} is not empty; choose another directory or add --force`);
}

/** The lab when root is available; otherwise the local transport on 127.0.0.x, said so. */
async function demo(hosts: number, duration: number, out: string | undefined, subnet: string | undefined, say: (s: string) => void, io: CliIO): Promise<number> {
  const args: RunArgs = { inventory: '', duration: String(duration), out };
  const overrides = { test: testOverrides(args), thresholds: thresholdOverrides(args) };
  if (io.root && SSHD) {
    const dir = path.join(os.tmpdir(), `meshperf-demo-${process.pid}`);
    const free = subnet ?? (await pickFreeSubnet());
    say(`demo: building a ${hosts}-host emulated cluster in ${dir} on ${free} (namespaces + sshd)`);
    const lab = await labUp({ hosts, dir, subnet: free });
    try {
      return await runAndReport(await loadInventory(lab.inventory), args, overrides, say, io);
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
  return runAndReport(inventory, args, overrides, say, io);
}
