// The bounds both sides must agree on (lib/protocol/timeouts.ts, lib/protocol/liveness.ts), held
// to each other over the sizes meshperf is run at: 2 to 10,000 hosts, round trips up to a whole
// RPC timeout, up to 4,096 clients on one host (a request's list limit).
import t from 'tap';
import {
  CLIENT_BUSY_MAX_MS,
  CLIENT_GRACE_MS,
  PROBE_PASSES,
  PROBE_TIMEOUT_MS,
  PROBES_AT_ONCE,
  probeWaitMs,
  COLLECT_WAIT_MS,
  releaseLeadMs,
  releaseWaitMs,
  RPC_TIMEOUT_MS,
  rpcTimeoutMs,
  START_AT_WINDOW_MS,
} from '../lib/protocol/timeouts.js';

t.test('a release, whenever it arrives within its round trip, carries a start_at inside the daemon\'s window', async (t) => {
  for (const hosts of [2, 24, 200, 1000, 10_000]) {
    for (const rtt of [0, 5, 500, 10_000, RPC_TIMEOUT_MS]) {
      const lead = releaseLeadMs(hosts, rtt);
      // Sent at 0 with start_at = lead; it reaches the daemon between 0 and rtt.
      if (lead >= START_AT_WINDOW_MS || rtt - lead >= START_AT_WINDOW_MS) t.fail(`${hosts} hosts, rtt ${rtt} ms: lead ${lead} ms falls outside the ${START_AT_WINDOW_MS} ms window`);
      if (lead < 2 * Math.min(rtt, 10_000) && lead < START_AT_WINDOW_MS / 2) t.fail(`${hosts} hosts, rtt ${rtt}: lead ${lead} ms does not cover the round trip`);
    }
  }
  t.pass('for 2 to 10,000 hosts and round trips up to 30 s');
});

t.test('a connected client outwaits the controller\'s whole preparation of its round, and its release', async (t) => {
  for (const most of [1, 23, 552, 4096]) {
    // What the controller may spend: the busiest host's start_clients, a round-trip ping, the lead, the release call.
    const controller = rpcTimeoutMs(most) + RPC_TIMEOUT_MS + releaseLeadMs(10_000, RPC_TIMEOUT_MS) + RPC_TIMEOUT_MS;
    if (releaseWaitMs(most) < controller) t.fail(`${most} clients on the busiest host: the client waits ${releaseWaitMs(most)} ms, the controller may take ${controller}`);
  }
  t.pass('up to 4,096 clients on the busiest host');
});

t.test('collect waits past every client\'s end: hung ones killed at their grace, busy ones at the busy bound', async (t) => {
  t.ok(CLIENT_GRACE_MS < CLIENT_BUSY_MAX_MS);
  t.ok(COLLECT_WAIT_MS > CLIENT_BUSY_MAX_MS, `collect waits ${COLLECT_WAIT_MS} ms, the daemon kills by ${CLIENT_BUSY_MAX_MS}`);
});

t.test('check waits for a probe of every peer to time out in every pass, at any cluster size', async (t) => {
  for (const peers of [1, 31, 32, 33, 199, 999, 9_999]) {
    // The daemon's worst case: every connect runs to its timeout, PROBES_AT_ONCE at a time, each pass.
    const worst = PROBE_PASSES * Math.ceil(peers / PROBES_AT_ONCE) * PROBE_TIMEOUT_MS;
    if (probeWaitMs(peers) < worst + RPC_TIMEOUT_MS) t.fail(`${peers} peers: the controller waits ${probeWaitMs(peers)} ms, the probe may take ${worst} ms`);
  }
  t.ok(probeWaitMs(999) > 2 * 3000 + RPC_TIMEOUT_MS, 'more than one timeout\'s worth once peers pass one batch (the old wait was one timeout plus the RPC allowance)');
});
