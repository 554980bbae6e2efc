// The liveness rule both sides share (lib/protocol/liveness.ts): its invariants.
import t from 'tap';
import { CONTROLLER_SILENCE_MS, DAEMON_SILENCE_MS, PING_EVERY_MS, silenceAllowedMs } from '../lib/protocol/liveness.js';

t.test('for any count of processes the daemon waits longer than the controller, by at least two pings', async (t) => {
  for (const n of [0, 1, 46, 1104, 100_000]) {
    const daemon = silenceAllowedMs(DAEMON_SILENCE_MS, n);
    const controller = silenceAllowedMs(CONTROLLER_SILENCE_MS, n);
    t.ok(daemon - controller >= 2 * PING_EVERY_MS, `${n} processes: daemon ${daemon} ms, controller ${controller} ms`);
  }
});
