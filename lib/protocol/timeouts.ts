/**
 * Every bound on waiting that both sides must agree on, in one place, each derived from the ones
 * it has to fit (test/timeouts.test.ts holds the invariants). The liveness rule, silence against
 * work, is its neighbour in liveness.ts.
 */

/** A request's answer (or its first piece) within this; requests that start processes get more per process. */
export const RPC_TIMEOUT_MS = 30_000;
export const RPC_PER_PROCESS_MS = 200;

export function rpcTimeoutMs(processes = 0): number {
  return RPC_TIMEOUT_MS + RPC_PER_PROCESS_MS * processes;
}

/** The daemon takes a `start_at` only this close to its own clock: a wild one is a bug or a bad clock. */
export const START_AT_WINDOW_MS = 60_000;

/**
 * The lead from the release to the start instant: enough for the release to reach every daemon
 * (one short line each, twice the slowest round trip now), never so long that a release sent at
 * the end of it could fall outside the daemon's START_AT_WINDOW_MS.
 */
export const RELEASE_MARGIN_MS = 30;
export const RELEASE_PER_HOST_MS = 1;
export const RELEASE_LEAD_MAX_MS = START_AT_WINDOW_MS / 2;

export function releaseLeadMs(hosts: number, slowestRttMs: number): number {
  return Math.min(RELEASE_LEAD_MAX_MS, RELEASE_MARGIN_MS + RELEASE_PER_HOST_MS * hosts + 2 * Math.max(0, slowestRttMs));
}

/**
 * How long a connected client waits for its round's release before it is killed: the longest the
 * controller may take to prepare the round's busiest host (`start_clients` of `mostClients`), then
 * to measure round trips and release (its lead, and the release's own answer). The controller
 * sends it with the clients; 120 s is what an older controller's daemon waited.
 */
export function releaseWaitMs(mostClients: number): number {
  return rpcTimeoutMs(mostClients) + RPC_TIMEOUT_MS + RELEASE_LEAD_MAX_MS + RPC_TIMEOUT_MS;
}
export const RELEASE_WAIT_DEFAULT_MS = 120_000;

/**
 * A client still running this long after its duration is hung (peer gone, link cut): killed. On
 * a host starved of CPU it is only slow, and may run up to CLIENT_BUSY_MAX_MS past its duration
 * before it is killed all the same.
 */
export const CLIENT_GRACE_MS = 10_000;
export const CLIENT_BUSY_MAX_MS = 120_000;

/**
 * After a round's planned end, how long collect may wait for its clients: by then the daemon has
 * killed every client still running (CLIENT_BUSY_MAX_MS), so every instance has an outcome. The
 * daemon answers as soon as all have one, which is at once in a healthy run.
 */
export const COLLECT_WAIT_MS = CLIENT_BUSY_MAX_MS + 2000;

/**
 * `check`'s probes: each connect gets PROBE_TIMEOUT_MS, PROBES_AT_ONCE at a time, in PROBE_PASSES
 * passes (the second retries what failed: a peer too busy to answer in time). The controller
 * waits for the worst of that, every connect timing out, plus a request's own allowance.
 */
export const PROBE_TIMEOUT_MS = 3000;
/** Connects at once to peers' listeners: enough to be quick at 1,000 hosts, few enough to be gentle. */
export const PROBES_AT_ONCE = 32;
export const PROBE_PASSES = 2;

export function probeWaitMs(targets: number, timeoutMs = PROBE_TIMEOUT_MS): number {
  return PROBE_PASSES * Math.ceil(targets / PROBES_AT_ONCE) * timeoutMs + RPC_TIMEOUT_MS;
}
