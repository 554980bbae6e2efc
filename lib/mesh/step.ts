/**
 * One step of a run, on hosts already connected: its plan, its servers, its rounds (each started
 * in sync on every host), returning what it measured. A run of one step is what runMesh always
 * did; a campaign (campaign.ts) runs several in turn over the same connections.
 */
import type { TestParams } from '../inventory/types.js';
import type { RoundInfo } from '../results/build.js';
import type { Journal } from '../results/journal.js';
import type { HostResult } from '../results/types.js';
import type { InstanceRecord, IperfOptions } from '../protocol/messages.js';
import { COLLECT_WAIT_MS } from '../protocol/timeouts.js';
import type { Thresholds } from '../results/verdict/thresholds.js';
import { asError, runRound, startServers, type RunState } from './phases.js';
import { Flow, planRun } from './plan.js';
import type { Step } from './campaign.js';

export interface StepOutcome {
  step: Step;
  test: TestParams;
  flows: Flow[];
  rounds: RoundInfo[];
  records: InstanceRecord[];
  processes: number;
  serversPerRound: boolean;
}

export interface StepContext {
  runId: string;
  startedAt: Date;
  planes: string[];
  thresholds: Thresholds;
  /** Each host as results describe it now (for the journal's plan). */
  hosts: () => HostResult[];
  /** Add ms to a phase of run.timings (ms: since the last lap when absent). */
  mark: (phase: string, ms?: number) => void;
  lap: () => number;
  log: (entry: Record<string, unknown>) => void;
  /** The step's own journal (results/journal.ts), or null without an output directory. */
  journal: Journal | null;
  /** Measure each host's clock (once per run: the first step). */
  measureClock: boolean;
  /** Steps in the run. */
  steps: number;
  /** Options of one flow over the step's (--find-knee: each pair at its own rate). */
  flowOptions?: (f: Flow) => Partial<IperfOptions>;
}

export async function measureStep(run: RunState, step: Step, test: TestParams, ctx: StepContext): Promise<StepOutcome> {
  const { sessions, signal } = run;
  run.test = test;
  run.journal = ctx.journal;
  run.records = [];
  run.flows = [];
  const live = () => run.inventory.hosts.filter((h) => run.isUp(h.name));
  const plan = planRun(live().map((h) => ({ config: h, hello: sessions.get(h.name)!.hello })), test, COLLECT_WAIT_MS / 1000, ctx.planes);
  for (const r of plan.refused) run.fail(r.host, { code: 'max_processes', message: r.message });
  // Ids are unique for the daemon's whole life: a later step's carry its number ("s2:h1>h2#0").
  if (step.index > 0) for (const f of plan.flows) f.id = `s${step.index}:${f.id}`;
  if (ctx.flowOptions) for (const f of plan.flows) f.options = { ...f.options, ...ctx.flowOptions(f) };
  const out: StepOutcome = { step, test, flows: plan.flows, rounds: [], records: run.records, processes: plan.processes, serversPerRound: plan.serversPerRound };
  run.flows = plan.flows;
  ctx.journal?.plan({
    run_id: ctx.runId,
    started_at: ctx.startedAt.toISOString(),
    test,
    planes: ctx.planes,
    thresholds: ctx.thresholds,
    processes: plan.processes,
    transport: run.transport.name,
    hosts: ctx.hosts(),
    flows: plan.flows,
    step: { index: step.index, profile: step.profile, point: step.point, repetition: step.repetition, of: ctx.steps },
  });
  if (signal?.aborted || plan.flows.length === 0) return out;
  // Servers everywhere, for every round (or, when they would not all fit, for each round just
  // before it); then, once a run, each host's clock.
  ctx.mark('plan');
  if (plan.serversPerRound) ctx.log({ event: 'servers-per-round', reason: 'every round\'s servers at once would exceed a host\'s port_range or max_processes' });
  const ports = plan.serversPerRound ? new Map<string, number>() : await startServers(run, live(), plan.flows, plan.idleTimeout);
  ctx.mark('servers');
  if (ctx.measureClock) {
    await Promise.all(live().map((h) => sessions.get(h.name)!.measureClock().catch((e) => run.fail(h.name, asError(e, 'clock')))));
    ctx.mark('clock');
  }
  // The rounds, each starting in sync on every host.
  for (let r = 0; r < plan.rounds && !signal?.aborted; r++) {
    const bothUp = (f: Flow) => run.isUp(f.client.name) && run.isUp(f.server.name);
    if (plan.serversPerRound) {
      // startServers skips the hosts that serve nothing this round.
      (await startServers(run, live(), plan.flows.filter((f) => f.round === r && bothUp(f)), plan.idleTimeout)).forEach((port, id) => ports.set(id, port));
      ctx.mark('servers');
    }
    // A host whose servers did not start is out by now.
    const round = plan.flows.filter((f) => f.round === r && bothUp(f));
    const { info, records, timing } = await runRound(run, r, round, ports);
    for (const [phase, ms] of Object.entries(timing)) ctx.mark(phase, ms);
    ctx.lap();
    for (const [host, error] of Object.entries(info.errors)) ctx.log({ event: 'round-error', host, round: r, error, ...(step.index ? { step: step.index } : {}) });
    out.rounds.push(info);
    run.records.push(...records);
  }
  return out;
}
