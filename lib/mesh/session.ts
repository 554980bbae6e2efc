/**
 * One host's part in a run: open the transport (retrying what is transient), wait for the daemon,
 * say hello, keep its heartbeat, and turn every way that can fail into a HostError with a stable
 * code.
 */
import { stopwatch } from '../shared/stopwatch.js';
import type { HostConfig, RuntimeConfig, SshDefaults } from '../inventory/types.js';
import type { DaemonOptions, HealthSample, HelloResult, HostIntervalParams, MethodName, ParamsOf, ResultOf } from '../protocol/messages.js';
import { HOST_INTERVAL_METHOD, PROTOCOL_VERSION } from '../protocol/messages.js';
import { daemonSilenceMs, PING_EVERY_MS, silenceAllowedMs, SLOW_AFTER_MS } from '../protocol/liveness.js';
import { RPC_TIMEOUT_MS } from '../protocol/timeouts.js';
import type { HostInterface, SshTarget } from '../results/types.js';
import { RpcClient, RpcError } from '../rpc/client.js';
import { hostIntervalParams } from '../protocol/answers.js';
import { DaemonChannel, HostError, Transport } from '../transport/types.js';
import { MIN_IPERF3, versionAtLeast } from '../shared/versions.js';

/**
 * Lost hosts (lib/protocol/liveness.ts, the rule the daemon shares): a dead host or a cut link is
 * noticed by SSH's keepalive (2 s × 3), which sshd answers without the daemon, and closes the
 * channel. While SSH answers, a silent daemon is busy: said after SLOW_AFTER_MS, lost only after
 * the host's `ssh.lost_after` (both plus 250 ms per process asked).
 */
/** Methods that are safe to send twice: they start nothing. */
const IDEMPOTENT = new Set<MethodName>(['hello', 'status', 'collect', 'ping']);
/**
 * Requests that keep a host's CPU busy while it serves them (a probe connects to every peer):
 * like a running test, silence is expected until the answer, within the request's own timeout.
 * In a 200-host lab on two cores a probing daemon went 12 s without a word.
 */
const HARD_WORK = new Set<MethodName>(['probe']);

const INSTALL_IPERF3 = 'install iperf3 >= 3.9 on the host (e.g. apt-get install iperf3), or set hosts.iperf3 to its absolute path';

/** Connect errors worth another try: the host may be booting or throttling handshakes. */
const TRANSIENT = new Set(['unreachable']);

/** Pings used to measure a host's clock; the one with the least round trip is kept. */
const CLOCK_SAMPLES = 7;

export interface ClockEstimate {
  /** Host clock minus controller clock, ms. */
  offset_ms: number;
  /** Round trip of the sample it came from, ms. */
  rtt_ms: number;
}

export interface LatencyStats {
  count: number;
  min_ms: number;
  mean_ms: number;
  max_ms: number;
}

export interface OpenOptions {
  transport: Transport;
  host: HostConfig;
  ssh: SshDefaults;
  options: Omit<DaemonOptions, 'heartbeat_ms'>;
  /** The host's live progress, once a second while its live clients run. */
  onHostInterval?: (p: HostIntervalParams) => void;
  onRetry?: (attempt: number, error: HostError) => void;
  runtime?: RuntimeConfig;
  /** A Node.js runtime was pushed to the host: this many bytes went. */
  onRuntime?: (bytes: number) => void;
  /** No further attempts once aborted. */
  signal?: AbortSignal;
  /** Each line the daemon writes to stderr (for the run's log). */
  onStderr?: (line: string) => void;
}

export class HostSession {
  /** Set when the host stopped answering or its connection dropped during the run. */
  lost: string | null = null;
  /** How the transport reached the host (ssh: resolved target, login, jump hosts). */
  readonly target?: SshTarget;
  /** Called once, when the host is found lost (for a failure shown as it happens). */
  onLost: (why: string) => void = () => {};
  /** Called once per silent spell, when it passes SLOW_AFTER_MS: the host is waited for, up to lostAfterMs. */
  onSlow: (silentMs: number, lostAfterMs: number) => void = () => {};
  private slowSaid = false;
  clock: ClockEstimate = { offset_ms: 0, rtt_ms: 0 };
  readonly health: HealthSample[] = [];
  /** Its test interfaces, once read (lib/mesh/interfaces.ts). */
  interfaces?: HostInterface[];
  private readonly rtts: number[] = [];
  private closing = false;
  private closed: Promise<void> | undefined;
  private lastTick = performance.now();
  /** iperf3 processes this host was asked to start so far: its silence allowance grows with them. */
  private work = 0;
  /**
   * Until when (performance.now()) a test runs on this host: silence is expected while its links
   * are saturated (on a shared management network its SSH traffic waits behind the test's), and
   * is counted only from then.
   */
  private busyUntil = 0;
  private readonly pinger: NodeJS.Timeout;

  private constructor(
    readonly host: HostConfig,
    private readonly channel: DaemonChannel,
    private readonly rpc: RpcClient,
    readonly hello: HelloResult,
    /** How long this host's steps took, ms: connect, boot, hello (then servers, clock, as they run). */
    readonly timings: Record<string, number>,
  ) {
    this.target = channel.target;
    this.pinger = setInterval(() => this.ping(), PING_EVERY_MS);
    channel.closed.then(() => {
      clearInterval(this.pinger);
      if (!this.closing) this.markLost(rpc.exitReason ? `the daemon on ${host.name} exited: ${rpc.exitReason}` : `the connection to ${host.name} closed during the run`);
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
    const options: DaemonOptions = { ...o.options, heartbeat_ms: daemonSilenceMs(host.ssh.lost_after * 1000) };
    if (host.cpus) options.cpus = host.cpus;
    if (host.max_processes) options.max_processes = host.max_processes;
    const lap = stopwatch();
    const channel = await o.transport.open({ host, ssh: o.ssh, options, runtime: o.runtime, onRuntime: o.onRuntime });
    // SSH up, Node.js found (or pushed) and the daemon sent: `connect`; its ready line: `boot`.
    const timings: Record<string, number> = { connect: lap() };
    // Its ready line: as long as a busy host may stay silent, for a starved one is slow to compile the bundle.
    const rpc = new RpcClient(channel, Math.max(RPC_TIMEOUT_MS, host.ssh.connect_timeout * 1000, host.ssh.lost_after * 1000));
    if (o.onStderr) rpc.onStderrLine = o.onStderr;
    try {
      const ready = await rpc.ready.catch((err: Error) => {
        throw startFailure(host, rpc.stderr, err);
      });
      timings.boot = lap();
      if (ready.protocol !== PROTOCOL_VERSION) {
        throw new HostError('protocol', `daemon speaks protocol ${ready.protocol}, controller ${PROTOCOL_VERSION}`);
      }
      const hello = await rpc.call('hello', {}, RPC_TIMEOUT_MS);
      timings.hello = lap();
      if (!hello.iperf3_version) {
        throw new HostError('no_iperf3', `${hello.iperf3_error ?? `iperf3 not usable at ${hello.iperf3_path}`}; ${INSTALL_IPERF3}`);
      }
      if (!versionAtLeast(hello.iperf3_version, MIN_IPERF3)) {
        throw new HostError('no_iperf3', `iperf3 ${hello.iperf3_version} at ${hello.iperf3_path} is older than ${MIN_IPERF3}, the oldest meshperf supports; ${INSTALL_IPERF3}`);
      }
      if (hello.cpus.length === 0) {
        throw new HostError('cpus', `none of the CPUs in hosts.cpus (${host.cpus?.join(',')}) is in this host's affinity list`);
      }
      if (o.onHostInterval) {
        const cb = o.onHostInterval;
        // Live progress only: one that does not fit the protocol is dropped, never shown.
        rpc.onNotification = (method, params) => {
          if (method !== HOST_INTERVAL_METHOD) return;
          let checked: HostIntervalParams;
          try {
            checked = hostIntervalParams(params, 'params');
          } catch {
            return;
          }
          cb(checked);
        };
      }
      return new HostSession(host, channel, rpc, hello, timings);
    } catch (err) {
      await channel.close().catch(() => {});
      throw err;
    }
  }

  /** One request; a timed-out idempotent request is sent once more (never one that starts iperf3). */
  async call<M extends MethodName>(method: M, params: ParamsOf<M>, timeoutMs: number): Promise<ResultOf<M>> {
    if (method === 'start_servers') this.work += (params as ParamsOf<'start_servers'>).servers.length;
    if (method === 'start_clients') this.work += (params as ParamsOf<'start_clients'>).clients.length;
    const busy = HARD_WORK.has(method) ? this.busyUntil : null;
    if (busy !== null) this.busyUntil = Math.max(busy, performance.now() + timeoutMs);
    try {
      return await this.rpc.call(method, params, timeoutMs);
    } catch (err) {
      if (err instanceof RpcError || !IDEMPOTENT.has(method) || this.lost) throw this.explain(err);
      return this.rpc.call(method, params, timeoutMs).catch((e) => {
        throw this.explain(e);
      });
    } finally {
      if (busy !== null) this.busyUntil = busy;
    }
  }

  /** A test runs on this host until `endsAt` (controller clock, ms since the epoch). */
  testRunsUntil(endsAt: number): void {
    this.busyUntil = Math.max(this.busyUntil, performance.now() + (endsAt - Date.now()));
  }

  /** How long this host may stay silent (its SSH up) before it counts as lost, ms. */
  silenceAllowedMs(): number {
    return silenceAllowedMs(this.host.ssh.lost_after * 1000, this.work);
  }

  /**
   * The round trip now, ms: one ping, answered. Not the last heartbeats': those sent while the
   * host was busy creating processes came back seconds late (24 lab hosts on 2 cores), and the
   * host is quiet again once it says its clients are ready. If the ping fails, the slowest recent.
   */
  async rttNow(timeoutMs: number): Promise<number> {
    const sent = performance.now();
    try {
      await this.rpc.call('ping', {}, timeoutMs);
    } catch {
      return Math.max(this.clock.rtt_ms, ...this.rtts.slice(-3));
    }
    const rtt = performance.now() - sent;
    this.rtts.push(rtt);
    return rtt;
  }

  /**
   * Estimate the host clock's offset: several timestamped pings, keeping the one with the least
   * round trip, whose host time is taken to be at the middle of it.
   */
  async measureClock(): Promise<ClockEstimate> {
    const lap = stopwatch();
    let best: ClockEstimate | null = null;
    for (let i = 0; i < CLOCK_SAMPLES; i++) {
      const t0 = performance.timeOrigin + performance.now();
      const { time_ms } = await this.call('ping', {}, 5000);
      const t1 = performance.timeOrigin + performance.now();
      const sample = { offset_ms: time_ms - (t0 + t1) / 2, rtt_ms: t1 - t0 };
      if (!best || sample.rtt_ms < best.rtt_ms) best = sample;
    }
    this.clock = { offset_ms: Math.round(best!.offset_ms * 10) / 10, rtt_ms: Math.round(best!.rtt_ms * 100) / 100 };
    this.timings.clock = lap();
    return this.clock;
  }

  /** Take one health sample (kept in `health`). */
  async sampleHealth(): Promise<void> {
    const st = await this.call('status', {}, 5000);
    this.health.push(st.health);
  }

  /** Round trips of the heartbeat pings so far. */
  latency(): LatencyStats | null {
    if (this.rtts.length === 0) return null;
    const sum = this.rtts.reduce((a, b) => a + b, 0);
    const r = (v: number) => Math.round(v * 100) / 100;
    return { count: this.rtts.length, min_ms: r(Math.min(...this.rtts)), mean_ms: r(sum / this.rtts.length), max_ms: r(Math.max(...this.rtts)) };
  }

  /** End the daemon's stdin, so it stops its iperf3s and exits; closing again waits for the first close. */
  close(): Promise<void> {
    return (this.closed ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.pinger);
    // No stop first: the daemon stops every iperf3 it started when its stdin ends, and the
    // channel closes once it has (lib/daemon/main.ts). One round trip less per host at the end.
    await this.channel.close();
  }

  /**
   * Every PING_EVERY_MS: a ping (its answer is the daemon's heartbeat and its round trip is
   * recorded), and the verdict: lost after silenceAllowedMs() of nothing at all.
   */
  private ping(): void {
    const now = performance.now();
    // Our own loop stalled (a busy controller): the daemon's answers may be waiting unread.
    const late = now - this.lastTick > 2 * PING_EVERY_MS;
    this.lastTick = now;
    const quietSince = Math.max(this.rpc.lastHeard, Math.min(now, this.busyUntil));
    const silent = now - quietSince;
    if (!late && !this.lost && silent > this.silenceAllowedMs()) {
      this.markLost(`${this.host.name} stopped answering: nothing heard for ${Math.round((now - this.rpc.lastHeard) / 1000)} s while its SSH connection stayed up (ssh.lost_after ${this.host.ssh.lost_after} s, plus 250 ms for each of the ${this.work} iperf3 processes asked)`);
      this.channel.abort();
      return;
    }
    if (silent <= PING_EVERY_MS) this.slowSaid = false;
    else if (!late && !this.slowSaid && silent > silenceAllowedMs(SLOW_AFTER_MS, this.work)) {
      this.slowSaid = true;
      this.onSlow(now - this.rpc.lastHeard, this.silenceAllowedMs());
    }
    // Sent even while an earlier one is unanswered: the daemon counts our silence, and a slow way
    // back (its answers late behind a busy host or link) must not make us fall silent to it.
    // Each times out, so at most silenceAllowedMs() / PING_EVERY_MS are ever in flight.
    this.rpc.call('ping', {}, this.silenceAllowedMs()).then(
      () => this.rtts.push(performance.now() - now),
      () => {},
    );
  }

  private markLost(why: string): void {
    if (this.lost) return;
    this.lost = why;
    this.onLost(why);
  }

  private explain(err: unknown): Error {
    return this.lost ? new HostError('host_lost', this.lost) : (err as Error);
  }
}

/** The daemon never said ready: tell a missing node apart from everything else. */
function startFailure(host: HostConfig, stderr: string, err: Error): HostError {
  if (err instanceof HostError && err.code === 'protocol_error') return err;
  if (/node: (command )?not found|No such file or directory|exec: .*node/.test(stderr)) {
    return new HostError('no_node', `Node.js not found on the host as "${host.node}" (set hosts.node to its path): ${stderr.trim()}`);
  }
  if (/checksum mismatch/.test(stderr)) {
    return new HostError('daemon_checksum', `the daemon bundle arrived corrupted (sha256 mismatch): ${stderr.trim()}`);
  }
  const tooOld = /Node\.js >= 16 needed, this is v[\d.]+/.exec(stderr);
  if (tooOld) return new HostError('no_node', `${tooOld[0]}: install a newer Node.js on the host, or set hosts.node to one`);
  if (/SyntaxError|Unexpected token/.test(stderr)) {
    return new HostError('no_node', `the host's Node.js cannot run the daemon (Node >= 16 needed): ${stderr.trim().split('\n').slice(-2).join(' ')}`);
  }
  return new HostError('daemon', err.message);
}
