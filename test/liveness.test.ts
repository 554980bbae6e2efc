// The liveness rule both sides share (lib/protocol/liveness.ts): its invariants.
import t from 'tap';
import { daemonSilenceMs, LOST_AFTER_S, PING_EVERY_MS, silenceAllowedMs, SLOW_AFTER_MS } from '../lib/protocol/liveness.js';

t.test('for any count of processes the daemon waits longer than the controller, by at least two pings', async (t) => {
  for (const lostAfter of [1, LOST_AFTER_S, 86_400]) {
    for (const n of [0, 1, 46, 1104, 100_000]) {
      const daemon = silenceAllowedMs(daemonSilenceMs(lostAfter * 1000), n);
      const controller = silenceAllowedMs(lostAfter * 1000, n);
      if (daemon - controller < 2 * PING_EVERY_MS) t.fail(`lost_after ${lostAfter} s, ${n} processes: daemon ${daemon} ms, controller ${controller} ms`);
    }
  }
  t.pass('daemon > controller + 2 pings, for lost_after 1 s to a day and 0 to 100,000 processes');
  t.ok(SLOW_AFTER_MS < LOST_AFTER_S * 1000, 'by default the terminal says whom it waits for well before it gives up on them');
});
