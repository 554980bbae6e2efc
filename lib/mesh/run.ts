/**
 * runMesh: the whole run for a library user or the CLI, top to bottom: connect → plan → servers
 * → rounds → results. A host that fails is recorded and the rest still run; whatever happens,
 * every daemon is stopped and disconnected before runMesh returns. With `out`, what is collected
 * is journaled there as it arrives, and results.json / results.csv are written at the end.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Inventory, TestParams } from '../inventory/types.js';
import { BuildInput, buildResults } from '../results/build.js';
import { hasReading, pairsOf } from '../results/verdict/judge.js';
import { defaultThresholds, Thresholds } from '../results/verdict/thresholds.js';
import { retestPairs } from './retest.js';
import { stopwatch } from '../shared/stopwatch.js';
import { Journal } from '../results/journal.js';
import type { ResultsDocument } from '../results/types.js';
import { writeResults } from '../results/write.js';
import { windowWarnings } from '../results/window.js';
import { writeReportHtml } from '../report/render.js';
import { ErrorInfo, InventoryError, UsageError } from '../shared/errors.js';
import { localTransport } from '../transport/local.js';
import { sshTransport } from '../transport/ssh.js';
import type { Transport } from '../transport/types.js';
import type { MeshEvent, MeshEventListener } from './events.js';
import { openRunLog } from './log.js';
import { guardListener } from './events.js';
import { hostResult } from './host-result.js';
import { prepareOutDir } from './out-dir.js';
import { collectHost, connectAll, newRunState, readInterfaces } from './phases.js';
import { campaignSteps, type Step } from './campaign.js';
import { measureStep, type StepOutcome } from './step.js';
import { composeCampaign, withKnees } from '../results/campaign.js';
import { KNEE_MAX_BPS, KNEE_MAX_STEPS, KneeSearch } from './knee.js';
import { groupOf, portRangeProblem } from './plan.js';
import { planeMembers, planeProblems, resolvePlanes } from './planes.js';
import { counterDeltas, mtuWarnings, namesOf, testInterfaces, trafficWarnings } from './interfaces.js';
import type { InterfaceFacts } from '../protocol/messages.js';

export interface RunOptions {
  inventory: Inventory;
  /** Overrides of the inventory's [test] table (what the CLI's flags set). */
  test?: Partial<TestParams>;
  /** "ssh" (default: the inventory's), "local", or your own Transport. */
  transport?: 'ssh' | 'local' | Transport;
  runId?: string;
  /**
   * Called for every event. A listener that throws (or rejects) is the caller's bug: the run
   * goes on, and the first such error is reported once as a `listener-error` event and in
   * run.warnings.
   */
  onEvent?: MeshEventListener;
  /** Abort to interrupt: every iperf3 is stopped, what finished is kept, results say interrupted. */
  signal?: AbortSignal;
  /**
   * Output directory: checked (created, written to) before connecting; what is collected is
   * journaled in `<out>/partial/` as it arrives (recoverResults() rebuilds the results from it
   * after a crash), and results.json and results.csv are written there at the end.
   */
  out?: string;
  /**
   * The planes (rails) to measure together: names of [hosts.planes], "default" for `address`,
   * or "all" for every named one. Default: ["default"].
   */
  planes?: string[];
  /** Over the inventory's [thresholds]: what each pair must reach. */
  thresholds?: Partial<Thresholds>;
  /** After the mesh, measure each pair that failed its thresholds again, alone; keep both readings. */
  retest?: boolean;
  /** With `out`: results.json indented for people (default: compact). */
  pretty?: boolean;
  /**
   * Live progress from iperf3 >= 3.17: "host" (default) sends each host's sum once a second (the
   * `test-running` events' throughput); "instance" adds every client's intervals, as `interval`
   * events, in the same once-a-second message per host.
   */
  liveIntervals?: 'host' | 'instance';
  /** Profiles to run, one step each ([profiles.NAME] or built in; default: the inventory's [test] profile, else none). */
  profiles?: string[];
  /** Option -> its values: one step each, the cross-product over several options (over the inventory's [sweep]). */
  sweep?: Record<string, unknown[]>;
  /** Runs of each step (default: the inventory's [test] repeat, else 1). */
  repeat?: number;
  /**
   * UDP: step by step, the highest rate each pair carries within max_loss_percent (knee.ts);
   * each pair's summary gets knee_bps. `test.bitrate`, when given, is the highest rate tried.
   */
  findKnee?: boolean;
}

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/**
 * The test parameters and planes in force: the inventory's, then the caller's overrides. What
 * cannot work (a plane mixing IPv4 and IPv6, too few ports) is refused here, before connecting.
 */
export function effectiveTest(opts: RunOptions): { test: TestParams; planes: string[]; thresholds: Thresholds } {
  const test = { ...opts.inventory.test, ...stripUndefined(opts.test ?? {}) };
  // A sample is repeatable: without a seed, one is drawn and recorded in the results.
  if (test.schedule === 'sample' && test.seed === undefined) test.seed = randomInt(2 ** 31 - 1);
  const { hosts } = opts.inventory;
  const planes = resolvePlanes(hosts, opts.planes);
  if (typeof planes === 'string') throw new UsageError(planes);
  const problems: string[] = [];
  if (test.reverse && test.bidir) problems.push('reverse and bidir exclude each other (bidir already measures both directions)');
  if (test.schedule === 'groups') {
    const unlabelled = hosts.filter((h) => groupOf(h, test.group_by) === '').map((h) => h.name);
    if (!test.group_by) problems.push('test.schedule "groups" needs group_by, the label key to group by (e.g. --group-by rack)');
    else if (unlabelled.length) {
      const who = unlabelled.length > 5 ? `${unlabelled.slice(0, 5).join(', ')} and ${unlabelled.length - 5} more` : unlabelled.join(', ');
      problems.push(`test.schedule "groups" by "${test.group_by}": ${who} ha${unlabelled.length > 1 ? 've' : 's'} no ${test.group_by} label; give every host one (labels = { ${test.group_by} = "…" })`);
    }
  }
  const biggest = Math.max(...planes.map((p) => planeMembers(hosts, p).length));
  const ports = portRangeProblem(test, biggest, planes.length);
  if (ports) problems.push(ports);
  problems.push(...planeProblems(hosts, planes));
  if (problems.length) throw new InventoryError(opts.inventory.source ?? 'inventory', problems);
  return { test, planes, thresholds: { ...(opts.inventory.thresholds ?? defaultThresholds()), ...stripUndefined(opts.thresholds ?? {}) } };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export async function runMesh(opts: RunOptions): Promise<ResultsDocument> {
  const { inventory, signal } = opts;
  const startedAt = new Date();
  const runId = opts.runId ?? newRunId(startedAt);
  const warnings: string[] = [];
  const transport = pickTransport(opts.transport ?? inventory.transport);
  // Every step's options checked before anything connects (campaign.ts: one step without any).
  const { steps, tests, planes, thresholds } = planCampaign(opts);
  const test = tests[0]!;
  const knee = opts.findKnee ? kneeSearch(opts, steps.length, test, thresholds) : null;
  if (opts.retest && steps.length > 1) throw new UsageError(`--retest measures the failing pairs of one step again; this run has ${steps.length} steps (profiles, --sweep, --repeat)`);
  if (opts.out) await prepareOutDir(opts.out);
  const log = opts.out ? openRunLog(opts.out, (err) => warnings.push(`log: ${err.message}`)) : null;
  log?.write({ event: 'run-start', run_id: runId, transport: transport.name, hosts: inventory.hosts.map((h) => h.name), test, planes, thresholds, retest: opts.retest ?? false, ...(steps.length > 1 ? { steps: steps.length } : {}) });
  const listener = guardListener(opts.onEvent, (message) => warnings.push(message));
  const emit = (e: MeshEvent) => {
    log?.event(e);
    listener(e);
  };
  const journal = opts.out ? new Journal(opts.out, (err) => warnings.push(`journal: ${err.message}`)) : null;
  const failures = new Map<string, ErrorInfo>();
  // Where the time goes (run.timings): each phase's ms, added up when it comes back (rounds).
  const timings: Record<string, number> = {};
  const lap = stopwatch();
  const mark = (phase: string, ms = lap()) => (timings[phase] = Math.round(((timings[phase] ?? 0) + ms) * 10) / 10);
  const run = newRunState({ inventory, test, transport, signal, emit, journal, instanceIntervals: opts.liveIntervals === 'instance' }, failures, (host, error) =>
    journal?.host(hostResult(inventory.hosts.find((h) => h.name === host)!, run.sessions.get(host), error)),
  );
  const { sessions } = run;
  const live = () => inventory.hosts.filter((h) => run.isUp(h.name));
  const warn = (message: string) => {
    warnings.push(message);
    emit({ type: 'warning', message });
  };
  const hosts = () => inventory.hosts.map((h) => hostResult(h, sessions.get(h.name), failures.get(h.name)));
  const before = new Map<string, InterfaceFacts[]>();
  const deltas = new Map<string, Map<string, { rx: number; tx: number }>>();
  const done: StepOutcome[] = [];
  // An interrupt stops every iperf3 at once, whatever the run is waiting for (a collect included).
  let interruptedAt: number | null = signal?.aborted ? Date.now() : null;
  // The results' input for one step, from what the run holds now (also for a provisional look before --retest).
  const results = (o: StepOutcome): BuildInput => ({
    runId,
    startedAt,
    finishedAt: new Date(),
    interrupted: signal?.aborted ?? false,
    interruptedAt,
    test: o.test,
    planes,
    thresholds,
    processes: o.processes,
    transport: transport.name,
    hosts: hosts(),
    flows: o.flows,
    rounds: o.rounds,
    records: o.records,
    warnings,
    timings,
    serversPerRound: o.serversPerRound,
  });
  // Each host's stop after an interrupt, once: its collect waits for it rather than stop again.
  const stops = new Map<string, Promise<unknown>>();
  const stopAll = () => {
    interruptedAt = Date.now();
    sessions.forEach((s, name) => stops.set(name, s.call('stop', {}, 5000).catch(() => {})));
  };
  signal?.addEventListener('abort', stopAll, { once: true });
  try {
    // 1. Connect and hello, a bounded number of handshakes at once; then what each host's test
    // interfaces are, with their byte counters before the test.
    await connectAll(run);
    mark('connect');
    const atStart = await readInterfaces(run, live(), (h) => namesOf(h, planes));
    atStart.forEach((r, name) => before.set(name, r.interfaces));
    const found = live().map((h) => ({ name: h.name, ...testInterfaces(h, planes, atStart.get(h.name)?.interfaces ?? [], atStart.get(h.name)?.resolved) }));
    for (const f of found) sessions.get(f.name)!.interfaces = f.interfaces;
    [...found.flatMap((f) => (before.has(f.name) ? f.problems : [])), ...mtuWarnings(found)].forEach(warn);
    mark('interfaces');
    // 2-4. Each step over the same connections: its plan, servers and rounds (step.ts). A step
    // interrupted keeps what it measured; the steps after it do not run.
    // With --find-knee the steps are the search's, one after another (knee.ts).
    for (let i = 0; ; i++) {
      const k = knee?.next() ?? null;
      const step = knee ? (k ? { index: i, profile: null, point: k.point, repetition: 1, options: {} } : null) : steps[i];
      if (!step || (signal?.aborted && done.length)) break;
      const total = knee ? KNEE_MAX_STEPS : steps.length;
      if (total > 1) emit({ type: 'step-started', step: i, steps: total, profile: step.profile, point: step.point, repetition: step.repetition });
      const stepJournal = i === 0 ? journal : (journal?.forStep(i) ?? null);
      const flowOptions = k ? (f: { src: { name: string }; dst: { name: string } }) => ({ bitrate: Math.round(k.rateOf(`${f.src.name}>${f.dst.name}`)) }) : undefined;
      const stepTest = k ? { ...test, bitrate: typeof k.point.bitrate === 'number' ? k.point.bitrate : test.bitrate } : tests[i]!;
      const outcome = await measureStep(run, step, stepTest, { runId, startedAt, planes, thresholds, hosts, mark, lap, log: (e) => log?.write(e), journal: stepJournal, measureClock: i === 0, steps: total, flowOptions });
      done.push(outcome);
      if (k) knee!.record(buildResults(results(outcome)), k);
    }
    // 5. Each host on its own from here: after an interrupt its iperf3s stopped and what ran
    // kept, then what went through its interfaces during the test, then, unless --retest still
    // needs it, its disconnect. A host is let go as soon as it is done, not when the slowest is:
    // after a Ctrl-C on a busy cluster nothing should wait for the last host's answers.
    const letGo = !opts.retest || signal?.aborted;
    const interrupted = signal?.aborted;
    const ending = live().map((h) => {
      const collected = interrupted ? collectHost(run, h.name, stops.get(h.name)) : Promise.resolve();
      const counted = collected.then(() => readInterfaces(run, [h])).then((after) => {
        const facts = after.get(h.name)?.interfaces;
        if (!facts) return;
        const d = counterDeltas(before.get(h.name) ?? [], facts);
        deltas.set(h.name, d);
        for (const i of sessions.get(h.name)?.interfaces ?? []) Object.assign(i, { rx_bytes: d.get(i.name)?.rx ?? null, tx_bytes: d.get(i.name)?.tx ?? null });
      });
      // The finally below waits for these closes (closing twice is closing once).
      if (letGo) void counted.then(() => sessions.get(h.name)!.close()).catch(() => {});
      return { collected, counted };
    });
    if (interrupted) {
      await Promise.all(ending.map((e) => e.collected));
      mark('collect');
    }
    await Promise.all(ending.map((e) => e.counted));
    mark('interfaces');
    // --retest (one step only): the failing pairs again, alone (after the counters, which are the mesh's).
    const only = done[0];
    if (opts.retest && !signal?.aborted && only) {
      const failing = pairsOf(buildResults(results(only))).filter(([, , p]) => p.summary.verdict === 'fail' && hasReading(p.summary));
      const again = await retestPairs(run, failing.map(([s, d]) => `${s}>${d}`), Math.max(-1, ...only.rounds.map((r) => r.round)) + 1);
      only.flows.push(...again.flows); // run.flows too (the same array): an interrupt stops them as well
      only.rounds.push(...again.rounds);
      mark('retest');
    }
  } finally {
    signal?.removeEventListener('abort', stopAll);
    // Stop and disconnect, whatever happened above: nothing stays running on a host.
    await Promise.all([...sessions.values()].map((s) => s.close().catch(() => {})));
    mark('disconnect');
  }
  for (const [name, s] of sessions) if (s.lost) run.fail(name, { code: 'host_lost', message: s.lost });
  run.stderr.warnings().forEach(warn);

  // 6. The results, each host's built in one place; a campaign's steps each built alone, then together.
  const built = (done.length ? done : [emptyStep(steps[0]!, test)]).map((o) => ({ step: o.step, doc: buildResults(results(o)) }));
  const doc = built.length === 1 && steps.length === 1 && !knee ? built[0]!.doc : composeCampaign(built, knee ? built.length : steps.length);
  if (knee) withKnees(doc, knee.knees());
  trafficWarnings(doc, deltas).forEach(warn);
  windowWarnings(doc.run.rounds, test.duration).forEach(warn);
  doc.run.timings.build = mark('build');
  doc.run.timings.total = Date.now() - startedAt.getTime();
  await journal?.flush();
  if (opts.out) {
    const files = await writeResults(doc, opts.out, { pretty: opts.pretty });
    const report = await writeReportHtml(doc, opts.out).catch((err: Error) => void warnings.push(`report.html: ${err.message}`));
    log?.write({ event: 'results', ...files, ...(report ? { html: report } : {}), timings: { ...doc.run.timings, write: lap() } });
  }
  emit({ type: 'done', summary: doc.summary });
  await log?.close();
  return doc;
}

/** The steps a run takes (profiles × sweep points × repetitions; one without them), each checked. */
export function planCampaign(opts: RunOptions): { steps: Step[]; tests: TestParams[]; planes: string[]; thresholds: Thresholds } {
  const own = opts.inventory.campaign;
  const spec = {
    profiles: opts.profiles ?? own?.profiles ?? [],
    sweep: { ...(own?.sweep ?? {}), ...(opts.sweep ?? {}) },
    repeat: opts.repeat ?? own?.repeat ?? 1,
  };
  const steps = campaignSteps(opts.inventory.test, stripUndefined(opts.test ?? {}), spec, opts.inventory.profiles);
  const checked = steps.map((s) => effectiveTest({ ...opts, test: s.options }));
  // A sample draws its seed once: every step then measures the same pairs.
  const seed = checked[0]!.test.seed;
  const tests = checked.map((c) => (c.test.schedule === 'sample' ? { ...c.test, seed } : c.test));
  return { steps, tests, planes: checked[0]!.planes, thresholds: checked[0]!.thresholds };
}

/** --find-knee's search, for a UDP run of one step; or a UsageError saying why not. */
function kneeSearch(opts: RunOptions, steps: number, test: TestParams, thresholds: Thresholds): KneeSearch {
  if (test.protocol !== 'udp') throw new UsageError('--find-knee finds where loss passes max_loss_percent: it needs UDP (--udp)');
  if (steps > 1) throw new UsageError('--find-knee picks its own rates, step by step: run it without --profile, --sweep or --repeat');
  if (opts.retest) throw new UsageError('--find-knee and --retest: one at a time');
  if (thresholds.max_loss_percent === null) throw new UsageError('--find-knee needs [thresholds] max_loss_percent, the loss that marks the knee');
  // --bitrate, when given, is the highest rate to try.
  return new KneeSearch(thresholds.max_loss_percent, opts.test?.bitrate ?? KNEE_MAX_BPS);
}

/** A step that never ran (every host failed before the first): the results still say so. */
function emptyStep(step: Step, test: TestParams): StepOutcome {
  return { step, test, flows: [], rounds: [], records: [], processes: typeof test.processes === 'number' ? test.processes : 1, serversPerRound: false };
}

export function pickTransport(t: 'ssh' | 'local' | Transport): Transport {
  if (t === 'ssh') return sshTransport;
  if (t === 'local') return localTransport;
  return t;
}
