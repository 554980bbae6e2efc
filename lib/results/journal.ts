/**
 * The run's journal: what runMesh learns, written as it arrives into `<out>/partial/`, one file
 * per fact (the plan, a host's hello or failure, one role's records of one host in one round),
 * each written to a temporary name and renamed, never overwritten. A controller that crashes
 * leaves them behind, and recoverResults() builds the results document from them alone.
 */
import { access, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { TestParams } from '../shared/options.js';
import type { InstanceRecord, InstanceRole } from '../protocol/messages.js';
import type { ErrorInfo } from '../shared/errors.js';
import type { Thresholds } from './verdict/thresholds.js';
import { buildResults, PlannedFlow, RoundInfo } from './build.js';
import type { HostResult, ResultsDocument, StepLabel } from './types.js';
import { composeCampaign } from './campaign.js';
import { ensureDir, writePiecesAtomic } from './files.js';
import { jsonFilePieces } from './json-pieces.js';

export const PARTIAL_DIR = 'partial';
const FORMAT = 'meshperf.partial/v1';

/** What the plan file holds: enough, with the records, to build the results. */
export interface PlanEntry {
  format: typeof FORMAT;
  run_id: string;
  started_at: string;
  test: TestParams;
  planes?: string[];
  /** Absent in journals of older runs: the defaults. */
  thresholds?: Thresholds;
  processes: number;
  transport: 'ssh' | 'local';
  hosts: HostResult[];
  /** A campaign's step (absent: a run of one step, or its first). */
  step?: StepLabel;
  flows: (Pick<PlannedFlow, 'id' | 'instance' | 'round' | 'options' | 'plane' | 'clientAddress' | 'serverAddress'> & { src: string; dst: string; client: string; server: string })[];
}

interface HostEntry {
  host: HostResult;
}
interface RecordsEntry {
  round: number | null;
  host: string;
  records: InstanceRecord[];
}

/** Appends facts to `<dir>/partial/`; a failed write is reported through `onError`, never thrown. */
export class Journal {
  private readonly dir: string;
  private pending: Promise<unknown>[] = [];
  private seq = 0;

  constructor(
    private readonly outDir: string,
    private readonly onError: (err: Error) => void,
    sub?: string,
  ) {
    this.dir = path.join(outDir, PARTIAL_DIR, ...(sub ? [sub] : []));
  }

  /** The journal of a campaign's later step: its own directory in `partial/`, its own names. */
  forStep(index: number): Journal {
    const j = new Journal(this.outDir, this.onError, `step-${String(index).padStart(4, '0')}`);
    j.pending = this.pending; // one flush waits for every step's writes
    return j;
  }

  plan(entry: Omit<PlanEntry, 'format' | 'flows'> & { flows: PlannedFlow[] }): void {
    // Only what results need: a Flow's hosts are whole configs.
    const flows = entry.flows.map((f) => ({
      id: f.id,
      instance: f.instance,
      round: f.round,
      options: f.options,
      plane: f.plane,
      clientAddress: f.clientAddress,
      serverAddress: f.serverAddress,
      src: f.src.name,
      dst: f.dst.name,
      client: f.client.name,
      server: f.server.name,
    }));
    this.write('plan.json', { ...entry, format: FORMAT, flows } satisfies PlanEntry);
  }

  /** A host's state as it changes (ready, failed): the latest file wins when rebuilding. */
  host(host: HostResult): void {
    this.write(`host-${host.name}-${this.next()}.json`, { host } satisfies HostEntry);
  }

  /** One role's records of one host, collected in `round` (null: after an interrupt). */
  records(round: number | null, role: InstanceRole | 'all', host: string, records: InstanceRecord[]): void {
    const name = round === null ? `stop-${host}.json` : `round-${round}-${role}-${host}.json`;
    this.write(name, { round, host, records } satisfies RecordsEntry);
  }

  round(info: RoundInfo): void {
    this.write(`round-${info.round}.json`, info);
  }

  /** Wait for every write so far. */
  async flush(): Promise<void> {
    await Promise.all(this.pending);
  }

  private next(): string {
    return String(++this.seq).padStart(4, '0');
  }

  private write(name: string, value: unknown): void {
    const file = path.join(this.dir, name);
    this.pending.push(
      (async () => {
        await ensureDir(this.dir);
        // Names are unique within a run; finding one already there means another run's files.
        if (await exists(file)) throw new Error(`${file} already exists: refusing to overwrite it`);
        // A host's records can be tens of MB: written a record at a time, never as one string.
        await writePiecesAtomic(file, jsonFilePieces(value, 2));
      })().catch((err: Error) => this.onError(err)),
    );
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Remove the journal once results.json holds everything it had. */
export async function removeJournal(outDir: string): Promise<void> {
  await rm(path.join(outDir, PARTIAL_DIR), { recursive: true, force: true });
}

/**
 * The results document from a journal alone, after a controller crashed or was killed: every
 * instance collected is there; the rounds it never collected are marked interrupted.
 */
export async function recoverResults(outDir: string): Promise<ResultsDocument> {
  const root = path.join(outDir, PARTIAL_DIR);
  const later = (await readdir(root).catch(() => [] as string[])).filter((n) => /^step-\d+$/.test(n)).sort();
  // The hosts' states as they changed, kept in partial/ for every step: read once.
  const states: HostResult[] = [];
  for (const n of (await readdir(root).catch(() => [] as string[])).filter((n) => n.startsWith('host-') && n.endsWith('.json')).sort()) {
    states.push((JSON.parse(await readFile(path.join(root, n), 'utf8')) as HostEntry).host);
  }
  if (!later.length) return recoverStep(root, states).then((r) => r.doc);
  // A campaign: each step from its own directory (the first's is partial/ itself). A step with
  // no plan never began.
  const steps = [await recoverStep(root, states)];
  for (const sub of later) if (await exists(path.join(root, sub, 'plan.json'))) steps.push(await recoverStep(path.join(root, sub), states));
  const total = Math.max(...steps.map((s) => s.total ?? steps.length), steps.length);
  return composeCampaign(steps.map((s) => ({ step: s.step, doc: s.doc })), total);
}

/** One step's results from its directory of the journal; `states`: the hosts' as they changed, oldest first. */
async function recoverStep(dir: string, states: HostResult[]): Promise<{ step: StepLabel; total?: number; doc: ResultsDocument }> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
  const read = async <T>(name: string): Promise<T> => JSON.parse(await readFile(path.join(dir, name), 'utf8')) as T;
  if (!names.includes('plan.json')) throw new Error(`${dir} holds no plan.json: nothing to recover (was --out the run's directory?)`);
  const plan = await read<PlanEntry>('plan.json');
  if (plan.format !== FORMAT) throw new Error(`${dir}/plan.json is not a meshperf journal (${FORMAT})`);
  const hosts = new Map(plan.hosts.map((h) => [h.name, h]));
  for (const host of states) hosts.set(host.name, host);
  const records: InstanceRecord[] = [];
  for (const n of names.filter((n) => n.startsWith('round-') && n.split('-').length > 2)) records.push(...(await read<RecordsEntry>(n)).records);
  for (const n of names.filter((n) => n.startsWith('stop-'))) records.push(...(await read<RecordsEntry>(n)).records);
  const flows: PlannedFlow[] = plan.flows.map((f) => ({ ...f, src: { name: f.src }, dst: { name: f.dst }, client: { name: f.client }, server: { name: f.server } }));
  const roundCount = flows.reduce((m, f) => Math.max(m, f.round + 1), 0);
  const rounds: RoundInfo[] = [];
  for (let r = 0; r < roundCount; r++) {
    const file = `round-${r}.json`;
    if (names.includes(file)) {
      rounds.push(await read<RoundInfo>(file));
      continue;
    }
    // Never finished: its clients' hosts are blamed with the interrupt.
    const ids = new Set(flows.filter((f) => f.round === r).map((f) => f.id));
    const started = records.filter((rec) => rec.role === 'client' && ids.has(rec.id));
    const errors: Record<string, ErrorInfo> = {};
    for (const f of flows.filter((f) => f.round === r)) {
      errors[f.client.name] = { code: 'interrupted', message: 'the controller ended before this round was collected; recovered from its journal' };
    }
    rounds.push({ round: r, scheduled_at: started[0]?.scheduled_at ?? Date.parse(plan.started_at), flows: ids.size, errors });
  }
  const doc = buildResults({
    runId: plan.run_id,
    startedAt: new Date(plan.started_at),
    finishedAt: new Date(Math.max(Date.parse(plan.started_at), ...records.map((r) => r.ended_at ?? 0))),
    interrupted: true,
    interruptedAt: null,
    test: plan.test,
    planes: plan.planes,
    thresholds: plan.thresholds,
    processes: plan.processes,
    transport: plan.transport,
    hosts: [...hosts.values()],
    flows,
    rounds,
    records,
  });
  return { step: plan.step ?? { index: 0, profile: null, point: {}, repetition: 1 }, total: plan.step?.of, doc };
}
