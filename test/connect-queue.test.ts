// The connect queue's steering (lib/mesh/connect-queue.ts), on a simulated shared bottleneck: a
// resource of `capacity` that serves everything running at once at a share of its speed, as a
// machine's cores serve booting daemons. The end-to-end cases (a 40-host check, the 200-host
// bench) exercise it on real hosts.
import t from 'tap';
import PQueue from 'p-queue';
import { ConnectQueue } from '../lib/mesh/connect-queue.js';

type Run = (task: () => Promise<void>) => Promise<void>;

/** `n` tasks of `base` ms each on a resource that runs `capacity` of them at full speed. */
async function connectAll(run: Run, n: number, base: number, capacity: number) {
  let running = 0;
  const took: number[] = [];
  await Promise.all(
    Array.from({ length: n }, () =>
      run(async () => {
        running++;
        const t0 = performance.now();
        // Processor sharing, in small steps: each step takes longer the more run at once.
        for (let done = 0; done < base; done += 2) await new Promise((r) => setTimeout(r, 2 * Math.max(1, running / capacity)));
        running--;
        took.push(performance.now() - t0);
      }),
    ),
  );
  return { worst: Math.max(...took), median: took.sort((a, b) => a - b)[Math.floor(took.length / 2)]! };
}

t.test('a shared bottleneck: it backs off to near the capacity, and no host waits on 60 others', async (t) => {
  const q = new ConnectQueue(64);
  const r = await connectAll((task) => q.run(task), 200, 50, 4);
  t.ok(q.backoffs >= 1, `it backed off (${q.backoffs} times)`);
  t.ok(q.limit < 32, `and settled at ${q.limit.toFixed(1)} at once (latency triples at 12), half of 64 or less`);
  const fixed64 = new PQueue({ concurrency: 64 });
  const fixed = await connectAll((task) => fixed64.add(task), 200, 50, 4);
  t.ok(r.median < fixed.median / 2, `each host came up faster: median ${r.median.toFixed(0)} ms against ${fixed.median.toFixed(0)} ms at a fixed 64`);
});

t.test('no bottleneck: slow start takes it to ssh.concurrency', async (t) => {
  const q = new ConnectQueue(40);
  // 100 ms each: a timer late by 200 ms under a loaded CI machine would look like a slow host.
  await connectAll((task) => q.run(task), 200, 100, 1000);
  t.equal(q.backoffs, 0, 'never backed off');
  t.equal(q.peak, 40, 'ran ssh.concurrency at once');
});

t.test('hosts slow for their own reason (a runtime sent) do not slow the others down', async (t) => {
  const q = new ConnectQueue(40);
  // Every fourth host takes 10x as long, as a host without Node.js that gets one pushed. (100 ms
  // for the others: a timer late by 200 ms would look like a slow host.)
  let k = 0;
  await Promise.all(
    Array.from({ length: 100 }, () =>
      q.run(async (job) => {
        const pushed = k++ % 4 === 0;
        if (pushed) job.unmeasured();
        await new Promise((r) => setTimeout(r, pushed ? 1000 : 100));
      }),
    ),
  );
  t.equal(q.backoffs, 0, 'never backed off');
  t.equal(q.peak, 40, 'ran ssh.concurrency at once');
  const without = new ConnectQueue(40);
  k = 0;
  await Promise.all(Array.from({ length: 100 }, () => without.run(() => new Promise((r) => setTimeout(r, k++ % 4 === 0 ? 1000 : 100)))));
  t.ok(without.backoffs >= 1, `counted, the same hosts make it back off (${without.backoffs} times): what the test guards against`);
});

t.test('a dropped handshake cuts the limit by a third, once per window', async (t) => {
  const q = new ConnectQueue(30);
  t.equal(q.limit, 8, 'starts at 8');
  const hold: (() => void)[] = [];
  const tasks = Array.from({ length: 8 }, () => q.run(() => new Promise<void>((r) => hold.push(r))));
  await new Promise((r) => setTimeout(r, 10));
  q.congested();
  t.equal(Math.floor(q.limit), 5, 'a third less');
  q.congested();
  t.equal(Math.floor(q.limit), 5, 'not again for the hosts already under way');
  hold.forEach((r) => r());
  await Promise.all(tasks);
  t.equal(Math.floor(new ConnectQueue(3).limit), 3, 'never above ssh.concurrency');
});
