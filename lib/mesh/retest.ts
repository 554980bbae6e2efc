/**
 * --retest: after the mesh, each pair that failed its thresholds is measured again alone, one
 * pair at a time, with the same instances and options. A pair that passes alone was only slow
 * under the mesh's contention; one that still fails is broken. Both readings are kept.
 */
import type { RoundInfo } from '../results/build.js';
import { COLLECT_WAIT_MS } from '../protocol/timeouts.js';
import { runRound, RunState, startServers } from './phases.js';
import type { Flow } from './plan.js';

/** A re-test's instance id: the original's, marked, so that both readings can live in one run. */
export const retestId = (id: string) => `${id}.retest`;

/**
 * Measure `pairs` ("src>dst") again, each alone in its own round numbered from `firstRound`.
 * Returns the re-test flows (marked `retest`) and their rounds.
 */
export async function retestPairs(run: RunState, pairs: string[], firstRound: number): Promise<{ flows: Flow[]; rounds: RoundInfo[] }> {
  const flows: Flow[] = [];
  const rounds: RoundInfo[] = [];
  let round = firstRound;
  for (const pair of pairs) {
    if (run.signal?.aborted) break;
    const original = run.flows.filter((f) => !f.retest && `${f.src.name}>${f.dst.name}` === pair);
    const again = original.map((f) => ({ ...f, id: retestId(f.id), round, retest: true }));
    if (!again.length || !again.every((f) => run.isUp(f.client.name) && run.isUp(f.server.name))) continue;
    const hosts = [...new Map(again.flatMap((f) => [f.client, f.server]).map((h) => [h.name, h])).values()];
    const ports = await startServers(run, hosts, again, run.test.duration + COLLECT_WAIT_MS / 1000 + 60);
    const { info, records } = await runRound(run, round, again, ports);
    run.records.push(...records);
    flows.push(...again);
    rounds.push(info);
    round++;
  }
  return { flows, rounds };
}
