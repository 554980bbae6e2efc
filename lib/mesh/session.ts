/**
 * One host's part in a run: open the transport (retrying what is transient), wait for the daemon,
 * say hello, keep its heartbeat, and turn every way that can fail into a HostError with a stable
 * code.
 */
import type { HostConfig, SshDefaults } from '../inventory/types.js';
import type { DaemonOptions, HelloResult, MethodName, ParamsOf, ResultOf } from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { RpcClient, RpcError } from '../rpc/client.js';
import { DaemonChannel, HostError, Transport } from '../transport/types.js';

/** The daemon gives up on us after this much silence; we ping five times as often. */
export const HEARTBEAT_MS = 10_000;
const PING_EVERY_MS = HEARTBEAT_MS / 5;
/** Unanswered pings in a row after which the host counts as lost. */
const PINGS_LOST = 3;
/** Methods that are safe to send twice: they start nothing. */
const IDEMPOTENT = new Set<MethodName>(['hello', 'status', 'collect', 'ping']);

/** Connect errors worth another try: the host may be booting or throttling handshakes. */
const TRANSIENT = new Set(['unreachable']);

export interface OpenOptions {
  transport: Transport;
  host: HostConfig;
  ssh: SshDefaults;
  options: Omit<DaemonOptions, 'heartbeat_ms'>;
  onRetry?: (attempt: number, error: HostError) => void;
  /** No further attempts once aborted. */
  signal?: AbortSignal;
}

export class HostSession {
  /** Set when the host stopped answering or its connection dropped during the run. */
  lost: string | null = null;
  private closing = false;
  private missedPings = 0;
  private readonly pinger: NodeJS.Timeout;

  private constructor(
    readonly host: HostConfig,
    private readonly channel: DaemonChannel,
    private readonly rpc: RpcClient,
    readonly hello: HelloResult,
  ) {
    this.pinger = setInterval(() => this.ping(), PING_EVERY_MS);
    channel.closed.then(() => {
      clearInterval(this.pinger);
      if (!this.closing) this.lost ??= `the connection to ${host.name} closed during the run`;
    });
  }

  /** Connect, retrying transient failures with exponential backoff (0.5 s, 1 s, 2 s, …). */
  static async open(o: OpenOptions): Promise<HostSession> {
    const attempts = Math.max(1, o.host.ssh.connect_attempts);
    for (let attempt = 1; ; attempt++) {
      try {
        return await HostSession.openOnce(o);
      } catch (err) {
        if (!(err instanceof HostError) || !TRANSIENT.has(err.code) || attempt >= attempts || o.signal?.aborted) throw err;
        o.onRetry?.(attempt, err);
        await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** (attempt - 1))));
      }
    }
  }

  private static async openOnce(o: OpenOptions): Promise<HostSession> {
    const { host } = o;
    const channel = await o.transport.open({ host, ssh: o.ssh, options: { ...o.options, heartbeat_ms: HEARTBEAT_MS } });
    const rpc = new RpcClient(channel, Math.max(30_000, host.ssh.connect_timeout * 1000));
    try {
      const ready = await rpc.ready.catch((err: Error) => {
        throw startFailure(host, rpc.stderr, err);
      });
      if (ready.protocol !== PROTOCOL_VERSION) {
        throw new HostError('protocol', `daemon speaks protocol ${ready.protocol}, controller ${PROTOCOL_VERSION}`);
      }
      const hello = await rpc.call('hello', {}, 30_000);
      if (!hello.iperf3_version) {
        throw new HostError('no_iperf3', hello.iperf3_error ?? `iperf3 not usable at ${hello.iperf3_path}`);
      }
      return new HostSession(host, channel, rpc, hello);
    } catch (err) {
      await channel.close().catch(() => {});
      throw err;
    }
  }

  /** One request; a timed-out idempotent request is sent once more (never one that starts iperf3). */
  async call<M extends MethodName>(method: M, params: ParamsOf<M>, timeoutMs: number): Promise<ResultOf<M>> {
    try {
      return await this.rpc.call(method, params, timeoutMs);
    } catch (err) {
      if (err instanceof RpcError || !IDEMPOTENT.has(method) || this.lost) throw this.explain(err);
      return this.rpc.call(method, params, timeoutMs).catch((e) => {
        throw this.explain(e);
      });
    }
  }

  /** Ask the daemon to stop its iperf3s, then end its stdin so it exits. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.pinger);
    if (!this.lost) await this.rpc.call('stop', {}, 5000).catch(() => {});
    await this.channel.close();
  }

  private ping(): void {
    this.rpc.call('ping', {}, PING_EVERY_MS).then(
      () => (this.missedPings = 0),
      () => {
        if (++this.missedPings < PINGS_LOST || this.lost) return;
        this.lost = `${this.host.name} stopped answering (${PINGS_LOST} heartbeats in ${(PINGS_LOST * PING_EVERY_MS) / 1000} s unanswered)`;
        this.channel.abort();
      },
    );
  }

  private explain(err: unknown): Error {
    return this.lost ? new HostError('host_lost', this.lost) : (err as Error);
  }
}

/** The daemon never said ready: tell a missing node apart from everything else. */
function startFailure(host: HostConfig, stderr: string, err: Error): HostError {
  if (/node: (command )?not found|No such file or directory|exec: .*node/.test(stderr)) {
    return new HostError('no_node', `Node.js not found on the host as "${host.node}" (set hosts.node to its path): ${stderr.trim()}`);
  }
  if (/checksum mismatch/.test(stderr)) {
    return new HostError('daemon_checksum', `the daemon bundle arrived corrupted (sha256 mismatch): ${stderr.trim()}`);
  }
  if (/SyntaxError|Unexpected token/.test(stderr)) {
    return new HostError('no_node', `the host's Node.js cannot run the daemon (Node >= 16 needed): ${stderr.trim().split('\n').slice(-2).join(' ')}`);
  }
  return new HostError('daemon', err.message);
}
