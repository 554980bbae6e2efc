// The controller's JSON-RPC client over an in-process stream pair standing in for a channel.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { RpcClient, RpcError } from '../lib/rpc/client.js';
import type { DaemonChannel } from '../lib/transport/types.js';
import { MAX_LINE_BYTES, RpcCode } from '../lib/protocol/messages.js';
import { answerLines, PIECE_CHARS } from '../lib/protocol/pieces.js';

function channel() {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let close!: () => void;
  const closed = new Promise<void>((r) => (close = r));
  const ch: DaemonChannel = { stdin, stdout, stderr, closed, close: async () => close(), abort: () => close() };
  const sent: any[] = [];
  stdin.on('data', (c: Buffer) => c.toString().split('\n').filter(Boolean).forEach((l) => sent.push(JSON.parse(l))));
  return { ch, stdout, stderr, sent, close };
}

/** A whole collect record, as a daemon of this build writes one (lib/protocol/answers.ts checks it). */
const RECORD = { id: 'h1>h2#0', source: 'h1', destination: 'h2', instance: 0, role: 'client', state: 'exited', daemon_pid: 7, pid: 8, cpu: null, port: 5201, address: '198.18.0.2', argv: ['iperf3'], started_at: 1, ended_at: 2, exit_code: 0, signal: null, stderr: '', iperf3: {}, timed_out: false, scheduled_at: null, iperf3_version: '3.12', released_at: null, traffic_started_at: null };

const READY = '{"jsonrpc":"2.0","method":"meshperf.ready","params":{"protocol":1,"daemon_version":"0.1.0","pid":42}}\n';

t.test('noise from login scripts before the ready line is skipped', async (t) => {
  const c = channel();
  const rpc = new RpcClient(c.ch, 5000);
  c.stdout.write('Welcome to node7!\n{"not":"ready"}\nlast login: today\n');
  c.stdout.write(READY);
  t.same(await rpc.ready, { protocol: 1, daemon_version: '0.1.0', pid: 42 });
});

t.test('answers are matched by id, in any order; errors reject with their code', async (t) => {
  const c = channel();
  const rpc = new RpcClient(c.ch, 5000);
  c.stdout.write(READY);
  await rpc.ready;
  const a = rpc.call('status', {}, 5000);
  const b = rpc.call('stop', {}, 5000);
  await new Promise((r) => setImmediate(r));
  t.same(c.sent.map((m) => [m.id, m.method]), [[1, 'status'], [2, 'stop']]);
  c.stdout.write('{"jsonrpc":"2.0","id":2,"result":{"killed":3}}\n{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad"}}\n');
  t.same(await b, { killed: 3 });
  const err = await a.catch((e) => e);
  t.ok(err instanceof RpcError);
  t.equal(err.code, -32602);
});

t.test('a call times out; a closed channel rejects what is pending with the daemon stderr', async (t) => {
  const c = channel();
  const rpc = new RpcClient(c.ch, 5000);
  c.stdout.write(READY);
  await rpc.ready;
  await t.rejects(rpc.call('hello', {}, 50), /hello got no answer within 50 ms/);
  const pending = rpc.call('collect', {}, 5000);
  c.stderr.write('meshperf-daemon[42]: something broke\n');
  await new Promise((r) => setImmediate(r));
  c.close();
  await t.rejects(pending, /daemon connection closed: meshperf-daemon\[42\]: something broke/);
  await t.rejects(rpc.call('status', {}, 5000), /closed/);
});

t.test('no ready line in time is an error naming what the host printed', async (t) => {
  const c = channel();
  const rpc = new RpcClient(c.ch, 100);
  c.stderr.write('sh: 1: exec: node: not found\n');
  await t.rejects(rpc.ready, /daemon did not say ready within 100 ms: sh: 1: exec: node: not found/);
});

t.test('an answer longer than a line comes in pieces and is whole; pieces keep the call alive', async (t) => {
  const c = channel();
  const rpc = new RpcClient(c.ch, 5000);
  c.stdout.write(READY);
  await rpc.ready;
  // Multi-byte characters, and a surrogate pair that the cut at PIECE_CHARS splits in two.
  const stderr = 'x'.repeat(PIECE_CHARS - '{"instances":[{"stderr":"'.length - 1) + '😀é'.repeat(PIECE_CHARS);
  // stderr first, so that the cut falls where the characters above put it.
  const { stderr: _, ...rest } = RECORD;
  const result = { instances: [{ stderr, ...rest }] };
  const pending = rpc.call('collect', {}, 300);
  const lines = answerLines(1, result);
  t.ok(lines.length >= 3, `${lines.length} lines: pieces, then the response`);
  t.ok(lines.every((l) => Buffer.byteLength(l) < MAX_LINE_BYTES), 'no line over the line limit');
  // Slower in all than the call's timeout, but never silent for that long.
  for (const line of lines) {
    c.stdout.write(line);
    await new Promise((r) => setTimeout(r, 150));
  }
  const got = (await pending) as unknown as typeof result;
  t.equal(got.instances[0]!.stderr.length, stderr.length);
  t.ok(got.instances[0]!.stderr === stderr, 'the text is the same, character for character');
});

t.test('an answer that does not fit the protocol rejects as protocol_error, naming the method and the field', async (t) => {
  const c = channel();
  const rpc = new RpcClient(c.ch, 5000);
  c.stdout.write(READY);
  await rpc.ready;
  const collect = rpc.call('collect', {}, 5000);
  const ping = rpc.call('ping', {}, 5000);
  const stop = rpc.call('stop', {}, 5000);
  c.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { instances: [RECORD, { ...RECORD, pid: '8' }] } }) + '\n');
  c.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: 2, result: { time_ms: null } }) + '\n');
  c.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: 3, result: { killed: 2 } }) + '\n');
  const err = await collect.catch((e) => e);
  t.equal(err.code, 'protocol_error');
  t.match(err.message, /in its answer to collect, result\.instances\[1\]\.pid must be an integer, not "8"/);
  await t.rejects(ping, /in its answer to ping, result\.time_ms must be a number, not null/);
  t.same(await stop, { killed: 2 }, 'a good answer on the same stream still arrives');
});

t.test('a ready line that does not fit the protocol fails the start as protocol_error', async (t) => {
  const c = channel();
  const rpc = new RpcClient(c.ch, 5000);
  c.stdout.write('{"jsonrpc":"2.0","method":"meshperf.ready","params":{"protocol":"3","pid":1}}\n');
  const err = await rpc.ready.catch((e) => e);
  t.equal(err.code, 'protocol_error');
  t.match(err.message, /in its ready line, params\.protocol must be an integer, not "3"/);
});

t.test('pieces that do not add up to what the response says reject the call', async (t) => {
  const c = channel();
  const rpc = new RpcClient(c.ch, 5000);
  c.stdout.write(READY);
  await rpc.ready;
  const pending = rpc.call('collect', {}, 5000);
  const lines = answerLines(1, { big: 'y'.repeat(2 * PIECE_CHARS + 5) });
  c.stdout.write(lines[0]! + lines.at(-1)!);
  await t.rejects(pending, /collect: the answer came in 1 pieces of 1048576 characters, but its response says 3 of/);
});

t.test('a line over the line limit fails what waits, naming its size, and the session goes on', async (t) => {
  const c = channel();
  const rpc = new RpcClient(c.ch, 5000);
  c.stdout.write(READY);
  await rpc.ready;
  const pending = rpc.call('collect', {}, 5000);
  c.stdout.write('{"jsonrpc":"2.0","id":1,"result":"' + 'z'.repeat(MAX_LINE_BYTES) + '"}\n');
  const err = await pending.catch((e) => e);
  t.ok(err instanceof RpcError);
  t.equal(err.code, RpcCode.MessageTooLarge);
  t.match(err.message, /^message_too_large: the host wrote a line of over \d+ bytes, over the 16777216-byte limit$/);
  const next = rpc.call('ping', {}, 5000);
  c.stdout.write('{"jsonrpc":"2.0","id":2,"result":{"time_ms":1}}\n');
  t.same(await next, { time_ms: 1 });
});
