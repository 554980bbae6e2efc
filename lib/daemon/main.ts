/**
 * Daemon entry point, run by the loader (lib/transport/loader.ts) inside `node -e`, with
 * process.argv = [node, length, sha256, options]. Speaks JSON-RPC on stdin/stdout, logs on stderr,
 * and lives exactly as long as its stdin: when the controller or the SSH channel goes away it
 * kills every iperf3 it started and exits.
 */
import { encodeLine, LineDecoder } from '../protocol/framing.js';
import { answerLines } from '../protocol/pieces.js';
import { EXITING_METHOD, ExitingParams, silenceAllowedMs } from '../protocol/liveness.js';
import { JsonRpcResponse, MAX_LINE_BYTES, PROTOCOL_VERSION, READY_METHOD, RpcCode } from '../protocol/messages.js';
import { handleLine } from './dispatch.js';
import { DAEMON_VERSION } from './facts.js';
import { DaemonService } from './service.js';
import { checkOptions } from './validate.js';

function log(message: string): void {
  process.stderr.write(`meshperf-daemon[${process.pid}]: ${message}\n`);
}

function send(message: unknown): void {
  process.stdout.write(encodeLine(message));
}

/** A response, in pieces when its line would be long (lib/protocol/pieces.ts). */
function answer(res: JsonRpcResponse): void {
  if (res.error) return send(res);
  for (const line of answerLines(res.id, res.result)) process.stdout.write(line);
}

function main(): void {
  let options;
  try {
    options = checkOptions(process.argv[3]);
  } catch (err) {
    log((err as Error).message);
    process.exit(2);
  }
  const service = new DaemonService(options, (method, params) => send({ jsonrpc: '2.0', method, params }));
  const decoder = new LineDecoder(MAX_LINE_BYTES);
  let shuttingDown = false;

  const shutdown = (why: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`${why}: stopping every iperf3 and exiting`);
    // On stdout too, ahead of the close: the controller names the reason, not a bare "connection closed".
    send({ jsonrpc: '2.0', method: EXITING_METHOD, params: { reason: why } satisfies ExitingParams });
    service.stop().finally(() => process.exit(code));
  };

  // Heartbeat: any line from the controller counts. A cut link closes nothing for hours (TCP
  // keepalive), so silence is the only sign; then behave as if stdin had closed.
  let lastHeard = Date.now();
  // While we serve one of its requests, the controller is waiting on us, not gone: on a busy
  // host (a probe of 200 peers, or a lab's 200 hosts on two cores) its pings reach us late, and
  // silence counts only from our answer. Every request is bounded (its own timeouts, or the
  // wait the controller asked for).
  let serving = 0;
  let lastAnswered = 0;
  const every = Math.min(1000, options.heartbeat_ms / 4);
  let lastTick = Date.now();
  const watchdog = setInterval(() => {
    const now = Date.now();
    // Timers run before I/O in a turn of the loop: after a stall of our own (a busy host), the
    // controller's lines may be waiting behind this very timer. A late tick is no evidence.
    const late = now - lastTick > 2 * every;
    lastTick = now;
    // The rule the controller keeps too (lib/protocol/liveness.ts), with a larger base: we never
    // give up on it first. While our clients' test runs, the controller's lines may wait behind it on a saturated
    // network: silence counts from the planned end.
    const allowed = silenceAllowedMs(options.heartbeat_ms, service.asked);
    const quietSince = serving > 0 ? now : Math.max(lastHeard, lastAnswered, Math.min(now, service.testRunsUntil));
    if (!late && now - quietSince > allowed) shutdown(`no word from the controller for ${now - lastHeard} ms (allowed ${allowed} after the test, for ${service.asked} processes asked)`, 0);
  }, every);
  watchdog.unref();

  process.stdin.on('data', (chunk: Buffer) => {
    lastHeard = Date.now();
    for (const ev of decoder.push(chunk)) {
      if ('tooLong' in ev) {
        send({ jsonrpc: '2.0', id: null, error: { code: RpcCode.MessageTooLarge, message: `message_too_large: a line of over ${ev.tooLong} bytes, over the ${MAX_LINE_BYTES}-byte limit` } });
        continue;
      }
      serving++;
      handleLine(service, ev.line, options.port_range)
        .then((res) => res && answer(res), (err) => log(String(err)))
        .finally(() => {
          serving--;
          lastAnswered = Date.now();
        });
    }
  });
  process.stdin.on('end', () => shutdown('stdin closed', 0));
  process.stdin.on('error', () => shutdown('stdin error', 0));
  // A broken stdout means nobody is listening any more: same as stdin closing.
  process.stdout.on('error', () => shutdown('stdout closed', 0));
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => shutdown(sig, 143));

  send({ jsonrpc: '2.0', method: READY_METHOD, params: { protocol: PROTOCOL_VERSION, daemon_version: DAEMON_VERSION, pid: process.pid } });
  // The loader paused stdin after reading the bundle; a 'data' listener alone does not resume it.
  process.stdin.resume();
}

main();
