/**
 * The controller <-> daemon protocol: JSON-RPC 2.0, one message per line, over the daemon's
 * stdin/stdout. This file is the single definition both sides compile against; docs/protocol.md
 * describes it for people.
 */

/** Bumped on any incompatible change; the daemon announces it in its ready line. */
export const PROTOCOL_VERSION = 1;

/** Longest line either side accepts; longer lines are refused, so memory stays bounded. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** A client still running this long after its duration is hung (peer gone, link cut): killed. */
export const CLIENT_GRACE_MS = 10_000;

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

/** Standard JSON-RPC codes, plus ours in the server-defined range. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** iperf3 could not be started or did not come up listening. */
  SpawnFailed: -32001,
  /** No free port left in the daemon's range. */
  NoFreePort: -32002,
  /** The line exceeded MAX_LINE_BYTES. */
  LineTooLong: -32003,
} as const;

// ---- Methods ----

export interface HelloResult {
  protocol: number;
  daemon_version: string;
  node_version: string;
  hostname: string;
  pid: number;
  platform: string;
  /** CPUs this process may run on (its affinity list), e.g. [0,1,2,3]. */
  cpus: number[];
  memory_total_bytes: number;
  memory_free_bytes: number;
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
}

export interface StartedInstance {
  id: string;
  pid: number;
  port: number;
  cpu: number | null;
  started_at: number;
}

export interface StartServersResult {
  servers: StartedInstance[];
}

export interface ClientSpec extends InstanceLabel {
  /** Server address and port to connect to. */
  host: string;
  port: number;
  /** Seconds (iperf3 -t). */
  duration: number;
  /** Streams in this process (iperf3 -P). */
  parallel: number;
  /** Local address to send from (iperf3 -B); the host's test address. */
  bind?: string;
}

export interface StartClientsParams {
  clients: ClientSpec[];
}

export interface StartClientsResult {
  clients: StartedInstance[];
}

export type InstanceRole = 'server' | 'client';
export type InstanceState = 'running' | 'exited';

export interface InstanceStatus {
  id: string;
  role: InstanceRole;
  state: InstanceState;
  pid: number;
}

export interface StatusResult {
  pid: number;
  active: number;
  instances: InstanceStatus[];
}

export interface CollectParams {
  /** Wait up to this long for every instance to exit before answering. */
  wait_ms?: number;
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
}

export interface CollectResult {
  instances: InstanceRecord[];
}

export interface StopResult {
  killed: number;
}

export interface PingResult {
  /** Host clock, milliseconds since the epoch. */
  time_ms: number;
}

/** Method name -> [params, result]: the table both sides are typed by. */
export interface Methods {
  hello: [Record<string, never> | undefined, HelloResult];
  start_servers: [StartServersParams, StartServersResult];
  start_clients: [StartClientsParams, StartClientsResult];
  status: [Record<string, never> | undefined, StatusResult];
  collect: [CollectParams | undefined, CollectResult];
  stop: [Record<string, never> | undefined, StopResult];
  ping: [Record<string, never> | undefined, PingResult];
}

export type MethodName = keyof Methods;
export type ParamsOf<M extends MethodName> = Methods[M][0];
export type ResultOf<M extends MethodName> = Methods[M][1];
