/**
 * One rule, on both sides of the channel, for telling a slow peer from a dead one: silence (not
 * one byte) for longer than a base plus SILENCE_PER_PROCESS_MS for every iperf3 process the host
 * was asked to start in the run. Saturated hosts are the normal case: one running hundreds of
 * processes on its cores answers late (measured: 11-24 s of silence from healthy daemons, 46
 * iperf3 on each of 24 lab hosts on 2 cores), and late is not dead.
 *
 * The count only grows (what was asked, not what still runs): an allowance that shrank as
 * processes exit made the daemon give up on a controller still waiting for it (200 lab hosts
 * under sample lost 26-32). And the daemon's base is the controller's plus two of its pings, so
 * for the same count the daemon never gives up first: a host is lost by the controller's verdict,
 * which the results name, never by a daemon quietly leaving.
 */

export const SILENCE_PER_PROCESS_MS = 250;
/** The controller's base: a host silent this long (plus its processes' share) is lost. */
export const CONTROLLER_SILENCE_MS = 10_000;
/** The controller pings every daemon this often; each answer is the daemon's heartbeat. */
export const PING_EVERY_MS = 2_000;
/** The daemon's base (sent as its `heartbeat_ms`): the controller's and two pings more. */
export const DAEMON_SILENCE_MS = CONTROLLER_SILENCE_MS + 2 * PING_EVERY_MS;

/** How long one side waits in silence, ms, for a host asked so far to start `processes` iperf3. */
export function silenceAllowedMs(baseMs: number, processes: number): number {
  return baseMs + SILENCE_PER_PROCESS_MS * processes;
}

/** The notification a daemon writes just before it exits on its own, saying why. */
export const EXITING_METHOD = 'meshperf.exiting';

export interface ExitingParams {
  reason: string;
}
