/**
 * One rule, on both sides of the channel, for telling a slow peer from a dead one: silence (not
 * one byte) for longer than a base plus SILENCE_PER_PROCESS_MS for every iperf3 process the host
 * was asked to start in the run. Saturated hosts are the normal case: one running hundreds of
 * processes on its cores answers late (measured: 11-24 s of silence from healthy daemons, 46
 * iperf3 on each of 24 lab hosts on 2 cores; a host held to 1 % of a core by its cgroup, over
 * 10 s while it started three servers), and late is not dead. A dead host or a cut link is found
 * sooner and apart from this, by SSH's keepalive, which sshd answers without the daemon: so while
 * SSH answers, the controller waits (saying so after SLOW_AFTER_MS) up to the user's bound,
 * `ssh.lost_after`.
 *
 * The count only grows (what was asked, not what still runs): an allowance that shrank as
 * processes exit made the daemon give up on a controller still waiting for it (200 lab hosts
 * under sample lost 26-32). And the daemon's base is the controller's plus two of its pings, so
 * for the same count the daemon never gives up first: a host is lost by the controller's verdict,
 * which the results name, never by a daemon quietly leaving.
 */

export const SILENCE_PER_PROCESS_MS = 250;
/** After this much silence (plus its processes' share) the controller says whom it waits for, and why. */
export const SLOW_AFTER_MS = 10_000;
/** The controller's base before a silent host is lost, by default (`ssh.lost_after`, seconds). */
export const LOST_AFTER_S = 60;
/** The controller pings every daemon this often; each answer is the daemon's heartbeat. */
export const PING_EVERY_MS = 2_000;

/** The daemon's base (sent as its `heartbeat_ms`) for a controller that loses hosts after `lostAfterMs`: two pings more. */
export function daemonSilenceMs(lostAfterMs: number): number {
  return lostAfterMs + 2 * PING_EVERY_MS;
}

/** How long one side waits in silence, ms, for a host asked so far to start `processes` iperf3. */
export function silenceAllowedMs(baseMs: number, processes: number): number {
  return baseMs + SILENCE_PER_PROCESS_MS * processes;
}

/** The notification a daemon writes just before it exits on its own, saying why. */
export const EXITING_METHOD = 'meshperf.exiting';

export interface ExitingParams {
  reason: string;
}
