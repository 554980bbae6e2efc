/**
 * The controller's side of the JSON-RPC stream: waits for the daemon's ready line (skipping any
 * noise a login script printed before it), then matches answers to requests by id.
 */
import { encodeLine, LineDecoder } from '../protocol/framing.js';
import {
  JsonRpcResponse,
  MAX_LINE_BYTES,
  MethodName,
  ParamsOf,
  READY_METHOD,
  ReadyParams,
  ResultOf,
  RpcCode,
} from '../protocol/messages.js';
import { EXITING_METHOD, ExitingParams } from '../protocol/liveness.js';
import { isPieced, PIECE_METHOD, PieceJoiner, PieceParams } from '../protocol/pieces.js';
import { checkAnswer, readyParams, ShapeError } from '../protocol/answers.js';
import { HostError } from '../shared/errors.js';
import { RPC_TIMEOUT_MS } from '../protocol/timeouts.js';
import { LOADER_STARTED } from '../transport/loader.js';
import type { DaemonChannel } from '../transport/types.js';

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  timeoutMs: number;
  /** An answer arriving in pieces (lib/protocol/pieces.ts). */
  pieces?: PieceJoiner;
}

export class RpcClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedError: Error | null = null;
  /** Why the daemon said it was exiting, when it did (lib/protocol/liveness.ts). */
  exitReason: string | null = null;
  private stderrTail = '';
  /** When the daemon last sent anything (performance.now()): a busy daemon is slow, not silent. */
  lastHeard = performance.now();
  readonly ready: Promise<ReadyParams>;
  /** Called for each notification (a message with a method and no id) after the ready line. */
  onNotification: (method: string, params: unknown) => void = () => {};
  /** Called for each whole line the daemon (or the remote shell) writes to stderr. */
  onStderrLine: (line: string) => void = () => {};
  private stderrPartial = '';

  constructor(
    private readonly channel: DaemonChannel,
    readyTimeoutMs = RPC_TIMEOUT_MS,
  ) {
    const decoder = new LineDecoder(MAX_LINE_BYTES);
    let onReady: (p: ReadyParams) => void;
    let onFail: (e: Error) => void;
    let isReady = false;
    this.ready = new Promise<ReadyParams>((res, rej) => {
      onReady = res;
      onFail = rej;
    });
    this.ready.catch(() => {});
    const readyTimer = setTimeout(
      () => onFail(new Error(`daemon did not say ready within ${readyTimeoutMs} ms${this.stderrHint()}`)),
      readyTimeoutMs,
    );
    channel.stdout.on('data', (chunk: Buffer) => {
      this.lastHeard = performance.now();
      for (const ev of decoder.push(chunk)) {
        if (!('line' in ev)) {
          // The daemon never writes such a line (long answers come in pieces): whatever it was
          // meant to answer is lost, so every call waiting fails now, naming the size.
          this.failAll(new RpcError(RpcCode.MessageTooLarge, `message_too_large: the host wrote a line of over ${ev.tooLong} bytes, over the ${MAX_LINE_BYTES}-byte limit`));
          continue;
        }
        const msg = tryParse(ev.line);
        if (!isReady) {
          if (msg?.method === READY_METHOD) {
            isReady = true;
            clearTimeout(readyTimer);
            try {
              onReady(readyParams(msg.params, 'params'));
            } catch (err) {
              onFail(notOurs('its ready line', err));
            }
          }
          continue;
        }
        if (msg && typeof msg.id === 'number') this.settle(msg as unknown as JsonRpcResponse);
        else if (msg?.method === PIECE_METHOD) this.piece(msg.params as PieceParams);
        else if (msg?.method === EXITING_METHOD) this.exitReason = String((msg.params as ExitingParams | undefined)?.reason ?? 'no reason given').slice(0, 500);
        else if (msg && typeof msg.method === 'string' && msg.id === undefined) this.onNotification(msg.method, msg.params);
      }
    });
    channel.stderr.on('data', (c: Buffer) => {
      const text = c.toString('utf8');
      this.stderrTail = (this.stderrTail + text).slice(-2000);
      const lines = (this.stderrPartial + text).split('\n');
      // A line without its end yet waits, up to a bound (a daemon that never ends its line).
      this.stderrPartial = lines.pop()!.slice(-2000);
      for (const line of lines) if (line.trim() && line !== LOADER_STARTED) this.onStderrLine(line);
    });
    channel.closed.then(() => {
      clearTimeout(readyTimer);
      this.closedError = new Error(this.exitReason ? `the daemon exited: ${this.exitReason}` : `daemon connection closed${this.stderrHint()}`);
      onFail(this.closedError);
      this.failAll(this.closedError);
    });
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  /** Last lines the daemon (or the remote shell) wrote to stderr, for error messages. */
  get stderr(): string {
    return this.stderrTail;
  }

  call<M extends MethodName>(method: M, params: ParamsOf<M>, timeoutMs: number): Promise<ResultOf<M>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const p: Pending = { method, resolve: resolve as (v: unknown) => void, reject, timer: undefined as unknown as NodeJS.Timeout, timeoutMs };
      this.pending.set(id, p);
      this.arm(id, p);
      this.channel.stdin.write(encodeLine({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** (Re)start a call's timeout: an answer still arriving in pieces is not late. */
  private arm(id: number, p: Pending): void {
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      this.pending.delete(id);
      p.reject(new Error(`${p.method} got no answer within ${p.timeoutMs} ms`));
    }, p.timeoutMs);
  }

  private piece(params: PieceParams): void {
    const p = typeof params?.id === 'number' && typeof params.data === 'string' ? this.pending.get(params.id) : undefined;
    if (!p) return;
    const tooLarge = (p.pieces ??= new PieceJoiner()).add(params.data);
    if (tooLarge) return this.take(params.id as number)!.reject(new RpcError(RpcCode.MessageTooLarge, `${tooLarge} (${p.method})`));
    this.arm(params.id as number, p);
  }

  /** The call waiting on `id`, no longer waiting (its timer stopped); undefined when none is. */
  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  private settle(msg: JsonRpcResponse): void {
    const p = this.take(msg.id as number);
    if (!p) return;
    if (msg.error) return p.reject(new RpcError(msg.error.code, msg.error.message));
    let result: unknown;
    try {
      result = isPieced(msg.result) ? (p.pieces ?? new PieceJoiner()).join(msg.result) : msg.result;
    } catch (err) {
      return p.reject(new Error(`${p.method}: ${(err as Error).message}`));
    }
    try {
      p.resolve(checkAnswer(p.method as MethodName, result));
    } catch (err) {
      p.reject(notOurs(`its answer to ${p.method}`, err));
    }
  }

  private stderrHint(): string {
    const tail = this.stderrTail.trim();
    return tail ? `: ${tail.split('\n').slice(-3).join(' | ')}` : '';
  }
}

/** A ShapeError said as the host's failure: what it sent does not fit the protocol. */
function notOurs(what: string, err: unknown): Error {
  if (!(err instanceof ShapeError)) return err as Error;
  return new HostError('protocol_error', `the host is not speaking meshperf's protocol: in ${what}, ${err.message}; is its \`node\` a real Node.js running meshperf's daemon?`);
}

function tryParse(line: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}
