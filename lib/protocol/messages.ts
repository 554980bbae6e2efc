/**
 * The controller <-> daemon protocol: JSON-RPC 2.0, one message per line, over the daemon's
 * stdin/stdout. This file is the single definition both sides compile against; docs/protocol.md
 * describes it for people.
 */

/** Bumped on any incompatible change; the daemon announces it in its ready line. */
export const PROTOCOL_VERSION = 3;

/**
 * Longest line either side accepts; longer lines are refused, so memory stays bounded. Answers
 * longer than this still arrive whole, in pieces (lib/protocol/pieces.ts).
 */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** The notification the daemon writes first, so noise from login scripts before it is skipped. */
export const READY_METHOD = 'meshperf.ready';

export interface ReadyParams {
  protocol: number;
  daemon_version: string;
  pid: number;
}

/** Options fixed at launch (passed as base64url JSON on the daemon's command line). */
export interface DaemonOptions {
  /** Absolute path of the iperf3 binary, or "iperf3" to find it on PATH. */
  iperf3: string;
  /** Inclusive port range the daemon may give to servers. */
  port_range: [number, number];
  /** CPUs the daemon may pin iperf3 to (within its affinity); all usable ones when absent. */
  cpus?: number[];
  /** Most iperf3 processes the daemon may run at once on this host. */
  max_processes?: number;
  /**
   * With no line from the controller for this long, the daemon assumes it is cut off, kills
   * every iperf3 it started and exits. The controller pings well within it.
   */
  heartbeat_ms: number;
}

// ---- JSON-RPC 2.0 envelope ----

export type JsonRpcId = number | string;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id?: JsonRpcId;
  method: string;
  params?: unknown;
}

export interface JsonRpcError {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  result?: unknown;
  error?: JsonRpcError;
}

/**
 * Standard JSON-RPC codes, plus ours in the server-defined range. The results name each by its
 * word in lib/shared/errors.ts (spawn_failed, no_free_port, ...).
 */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** iperf3 could not be started or did not come up listening. */
  SpawnFailed: -32001,
  /** No free port left in the daemon's range. */
  NoFreePort: -32002,
  /** A line over MAX_LINE_BYTES, or an answer over ANSWER_MAX_CHARS (lib/protocol/pieces.ts). */
  MessageTooLarge: -32003,
  /** More iperf3 processes than the host's max_processes. */
  TooManyProcesses: -32004,
} as const;

// ---- Methods ----

export interface HelloResult {
  protocol: number;
  daemon_version: string;
  node_version: string;
  hostname: string;
  pid: number;
  platform: string;
  /** CPUs the daemon pins iperf3 to: its affinity list, within the host's `cpus` limit. */
  cpus: number[];
  /** The host's limit on iperf3 processes, if one was set. */
  max_processes: number | null;
  memory_total_bytes: number;
  memory_free_bytes: number;
  /** Cores the daemon's cgroup may use (its CPU quota, the tightest on its path); null when unlimited or unknown. */
  cpu_limit_cores: number | null;
  iperf3_path: string;
  /** e.g. "3.12"; null when iperf3 could not be run. */
  iperf3_version: string | null;
  /** Why iperf3 could not be run, when iperf3_version is null. */
  iperf3_error: string | null;
  /** Host clock, milliseconds since the epoch. */
  time_ms: number;
}

/** Labels the controller attaches to every instance; the daemon only echoes them back. */
export interface InstanceLabel {
  /** Unique per run, e.g. "h1>h2#0". */
  id: string;
  source: string;
  destination: string;
  instance: number;
}

export interface ServerSpec extends InstanceLabel {
  /** Address the server binds to (the host's test address). */
  bind: string;
}

export interface StartServersParams {
  servers: ServerSpec[];
  /** Seconds a server waits for its client before giving up (iperf3 >= 3.10 --idle-timeout). */
  idle_timeout?: number;
  /**
   * Stop each server (SIGSTOP) once it listens, until `release` wakes it. A stopped server's
   * kernel still completes TCP handshakes, so its client connects, sends its cookie and waits
   * for the parameter exchange: every process exists and is connected before the instant, and
   * the instant is one SIGCONT per host (docs/measurement.md).
   */
  hold?: boolean;
}

export interface StartedInstance {
  id: string;
  pid: number;
  port: number;
  cpu: number | null;
  started_at: number;
  /** A client: whether its control connection was up (to its held server) when start_clients answered. */
  connected?: boolean;
}

export interface StartServersResult {
  servers: StartedInstance[];
}

/** How one iperf3 client measures: the options with an iperf3 flag (lib/shared/options.ts). */
export type { IperfOptions } from '../shared/options.js';
import type { IperfOptions } from '../shared/options.js';

export interface ClientSpec extends InstanceLabel {
  /** Server address and port to connect to. */
  host: string;
  port: number;
  /** Local address to send from (iperf3 -B); the host's test address. */
  bind?: string;
  options: IperfOptions;
}

/**
 * Start these clients now, against servers held stopped: the answer comes once each has its
 * control connection up (or has exited), so that this host is ready and the controller can pick
 * an instant every host can meet. Their traffic begins when `release` wakes their servers.
 */
export interface StartClientsParams {
  clients: ClientSpec[];
  /** Send live progress (iperf3 >= 3.17, --json-stream): the host's sum once a second, as `meshperf.host_interval`. */
  live?: boolean;
  /** With `live`, each client's intervals too, in the same once-a-second message. */
  intervals?: boolean;
  /** How long a connected client may wait for its release before it is killed (timeouts.ts releaseWaitMs); 120 s when absent. */
  release_within_ms?: number;
}

/** Notification, once a second per host while live clients run: what they carry now. */
export const HOST_INTERVAL_METHOD = 'meshperf.host_interval';

export interface HostIntervalParams {
  /** Host clock, when it was sent. */
  time_ms: number;
  /** Sum of each live client's latest interval. */
  bits_per_second: number;
  clients: number;
  /** Each client's intervals since the previous message, when asked for (`intervals`). */
  intervals?: IntervalParams[];
}

/** One interval of one client, from iperf3 --json-stream. */
export interface IntervalParams {
  id: string;
  /** Seconds since the client's test start. */
  end: number;
  bits_per_second: number;
}

export interface StartClientsResult {
  clients: StartedInstance[];
}

/**
 * The round's instant: at `start_at` (host clock, ms since the epoch; now if absent) wake the
 * held servers named in `servers`; from then on watch this host's waiting clients for the moment
 * their traffic begins (their first data stream), and give them their deadlines.
 */
export interface ReleaseParams {
  start_at?: number;
  /** Ids of this host's held servers that serve this round. */
  servers?: string[];
}

export interface ReleaseResult {
  /** When the servers were woken, host clock. */
  released_at: number;
  /** Servers woken, and clients now under watch. */
  servers: number;
  clients: number;
}

export type InstanceRole = 'server' | 'client';
export type InstanceState = 'running' | 'exited';

export interface InstanceStatus {
  id: string;
  role: InstanceRole;
  state: InstanceState;
  pid: number;
}

export interface HealthSample {
  time_ms: number;
  /** iperf3 processes running. */
  active: number;
  /** Host CPU busy since the previous sample, percent of all CPUs. */
  host_cpu_percent: number | null;
  host_memory_free_bytes: number;
  load_average_1m: number;
  /** The daemon's own CPU time since the previous sample, percent of one CPU, and memory. */
  daemon_cpu_percent: number | null;
  daemon_rss_bytes: number;
  /** Share of its cgroup's CPU periods since the previous sample in which the quota held it back, percent; null without a quota. */
  cpu_throttled_percent?: number | null;
}

export interface StatusResult {
  pid: number;
  active: number;
  instances: InstanceStatus[];
  health: HealthSample;
}

export interface CollectParams {
  /** Wait up to this long for every (selected) instance to exit before answering. */
  wait_ms?: number;
  /** Only these instance ids; all when absent. */
  ids?: string[];
  /** Only this role; both when absent. */
  role?: InstanceRole;
}

export interface InstanceRecord extends InstanceLabel {
  role: InstanceRole;
  state: InstanceState;
  daemon_pid: number;
  pid: number;
  cpu: number | null;
  /** The server's port (for a client: the port it connected to). */
  port: number;
  /** Remote address (client) or bind address (server). */
  address: string;
  argv: string[];
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  signal: string | null;
  stderr: string;
  /** iperf3's -J document, parsed; null when it printed none that parses. */
  iperf3: unknown;
  /** True when the daemon killed it for running past its duration plus a grace. */
  timed_out: boolean;
  /** The instant it was asked to start at (host clock), for clients started in sync. */
  scheduled_at: number | null;
  /** iperf3 version that ran it. */
  iperf3_version: string | null;
  /** A held server: when release woke it (host clock); null otherwise. */
  released_at: number | null;
  /**
   * A client: when its traffic began (host clock), i.e. when it opened its first data stream,
   * seen by the daemon as a new descriptor in /proc/<pid>/fd (the midpoint between the last look
   * without it and the first with it); null when it never got that far.
   */
  traffic_started_at: number | null;
}

export interface CollectResult {
  instances: InstanceRecord[];
}

/** Only these instances (ids, either role); every running one when absent. */
export interface StopParams {
  ids?: string[];
}

export interface StopResult {
  killed: number;
}

export interface PingResult {
  /** Host clock, milliseconds since the epoch. */
  time_ms: number;
}

/** One network interface of the host, as the kernel describes it (interfaces). */
export interface InterfaceFacts {
  name: string;
  /** Its IPv4 and IPv6 addresses (link-local ones with their %zone). */
  addresses: string[];
  mtu: number | null;
  /** Link speed; null where the kernel does not say (loopback, some virtual devices, link down). */
  speed_mbps: number | null;
  /** NUMA node of the device, where the kernel knows it (physical NICs on multi-socket hosts). */
  numa_node: number | null;
  /** Kernel driver of the device (e.g. "mlx5_core"), null for virtual ones. */
  driver: string | null;
  /** Byte counters since boot (/proc/net/dev), to take differences of. */
  rx_bytes: number;
  tx_bytes: number;
}

export interface InterfacesParams {
  /** Names to resolve on the host (its resolver, as iperf3 will use it), e.g. data addresses given as DNS names. */
  resolve?: string[];
}

export interface InterfacesResult {
  interfaces: InterfaceFacts[];
  /** Each name asked for, and the address it resolved to there (null when it did not). */
  resolved?: Record<string, string | null>;
  /** Host clock when the counters were read. */
  time_ms: number;
}

/** meshperf check: plain listeners on the host's data addresses, and what limits a large mesh there. */
export interface PreflightParams {
  /** Addresses to listen on (the host's data addresses), each on a free port of port_range. */
  listen: string[];
}

export interface PreflightResult {
  /** Ports of port_range that no socket of the host holds. */
  free_ports: number;
  /** net.ipv4.neigh.default.gc_thresh3: the most neighbour (ARP/NDP) entries the host keeps. */
  gc_thresh3: number | null;
  /** The first number of sshd's MaxStartups (unauthenticated connections at once), null when unknown. */
  max_startups: number | null;
  /** The daemon's own listeners (never an iperf3 server): accept, close at once. */
  listeners: { address: string; port: number }[];
}

export interface ProbeParams {
  /** Each peer's listener, and the local address to connect from. */
  targets: { address: string; port: number; bind?: string }[];
  timeout_ms: number;
}

export interface ProbeResult {
  results: { address: string; port: number; ok: boolean; ms: number; error?: string }[];
}

/** Method name -> [params, result]: the table both sides are typed by. */
export interface Methods {
  hello: [Record<string, never> | undefined, HelloResult];
  start_servers: [StartServersParams, StartServersResult];
  start_clients: [StartClientsParams, StartClientsResult];
  release: [ReleaseParams, ReleaseResult];
  status: [Record<string, never> | undefined, StatusResult];
  collect: [CollectParams | undefined, CollectResult];
  stop: [StopParams | undefined, StopResult];
  ping: [Record<string, never> | undefined, PingResult];
  interfaces: [InterfacesParams | undefined, InterfacesResult];
  preflight: [PreflightParams, PreflightResult];
  probe: [ProbeParams, ProbeResult];
}

export type MethodName = keyof Methods;
export type ParamsOf<M extends MethodName> = Methods[M][0];
export type ResultOf<M extends MethodName> = Methods[M][1];
