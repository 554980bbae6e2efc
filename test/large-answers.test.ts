// Nothing measured is lost to a size limit: a host whose collect answer is longer than any line
// either side accepts (MAX_LINE_BYTES) still gives every instance whole, in pieces.
import t from 'tap';
import { loadInventory, runMesh } from '../lib/index.js';
import { MAX_LINE_BYTES } from '../lib/protocol/messages.js';
import { canRunLab, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { schemaErrors } from './helpers/schema.js';

const skip = !canRunLab && NO_LAB_REASON;

t.test('a collect answer over the line limit arrives whole: every instance, every interval of every stream', { skip, timeout: 400_000 }, async (t) => {
  const lab = await withLab(t, 2, '198.19.140.0/24');
  // 16 processes of 128 streams each way, 40 s: about 19 MiB of client documents per host.
  const duration = 40;
  const parallel = 128;
  const answers = new Map<string, number>();
  const doc = await runMesh({
    inventory: await loadInventory(lab.inventory),
    test: { duration, processes: 16, parallel, bitrate: 1000 },
    onEvent: (e) => {
      if (e.type === 'host-collected') answers.set(`${e.host} ${e.role}`, Buffer.byteLength(JSON.stringify({ instances: e.records })));
    },
  });
  t.equal(schemaErrors(doc), '');
  const biggest = Math.max(...answers.values());
  t.ok(biggest > MAX_LINE_BYTES, `one host's answer was ${(biggest / 2 ** 20).toFixed(1)} MiB, over the ${MAX_LINE_BYTES / 2 ** 20} MiB line limit`);
  t.equal(doc.summary.instances, 32);
  t.equal(doc.summary.instances_ok, 32, 'every instance kept, none lost to the size');
  const instances = Object.entries(doc.sources).flatMap(([src, s]) => Object.entries(s.destinations).flatMap(([dst, p]) => p.instances.map((i) => ({ ...i, id: `${src}>${dst}#${i.instance}` }))));
  for (const i of instances) {
    const client = i.iperf3 as { intervals: { streams: unknown[] }[]; end: { streams: unknown[] } };
    const server = i.server!.iperf3 as { intervals: { streams: unknown[] }[] } | null;
    const whole = client.intervals.length >= duration && client.intervals.every((iv) => iv.streams.length === parallel) && client.end.streams.length === parallel;
    if (!whole) t.fail(`${i.id}: ${client.intervals.length} intervals, not ${duration} of ${parallel} streams each`);
    // The server's last interval may be cut by the test's end.
    if (!server || server.intervals.length < duration - 1) t.fail(`${i.id}: the server's document has ${server?.intervals.length ?? 'no'} intervals`);
  }
  t.pass(`${instances.length} client and server documents checked whole`);
});
