/**
 * What a daemon may answer, method by method, checked by the controller as the daemon checks what
 * it is asked (daemon/validate.ts): a host whose `node` is not meshperf's daemon, or a daemon of
 * another build, fails as `protocol_error` naming the method and the field, and nothing it said
 * reaches the results. Each check is typed by the interface in messages.ts it stands for.
 */
import type {
  CollectResult,
  HealthSample,
  HelloResult,
  HostIntervalParams,
  InstanceRecord,
  InterfaceFacts,
  InterfacesResult,
  MethodName,
  PingResult,
  PreflightResult,
  ProbeResult,
  ReadyParams,
  ReleaseResult,
  ResultOf,
  StartedInstance,
  StatusResult,
  StopResult,
} from './messages.js';
import { any, bool, Check, int, list, nullable, num, obj, oneOf, optional, record, str } from './shape.js';

export { ShapeError } from './shape.js';

export const readyParams = obj<ReadyParams>({ protocol: int, daemon_version: str, pid: int });

const hello = obj<HelloResult>({
  protocol: int,
  daemon_version: str,
  node_version: str,
  hostname: str,
  pid: int,
  platform: str,
  cpus: list(int),
  max_processes: nullable(int),
  memory_total_bytes: num,
  memory_free_bytes: num,
  cpu_limit_cores: nullable(num),
  iperf3_path: str,
  iperf3_version: nullable(str),
  iperf3_error: nullable(str),
  time_ms: num,
});

const started = obj<StartedInstance>({ id: str, pid: int, port: int, cpu: nullable(int), started_at: num, connected: optional(bool) });

const health = obj<HealthSample>({
  time_ms: num,
  active: int,
  host_cpu_percent: nullable(num),
  host_memory_free_bytes: num,
  load_average_1m: num,
  daemon_cpu_percent: nullable(num),
  daemon_rss_bytes: num,
  cpu_throttled_percent: optional(nullable(num)),
});

const instanceRecord = obj<InstanceRecord>({
  id: str,
  source: str,
  destination: str,
  instance: int,
  role: oneOf('server', 'client'),
  state: oneOf('running', 'exited'),
  daemon_pid: int,
  pid: int,
  cpu: nullable(int),
  port: int,
  address: str,
  argv: list(str),
  started_at: num,
  ended_at: nullable(num),
  exit_code: nullable(int),
  signal: nullable(str),
  stderr: str,
  iperf3: any,
  timed_out: bool,
  scheduled_at: nullable(num),
  iperf3_version: nullable(str),
  released_at: nullable(num),
  traffic_started_at: nullable(num),
});

const interfaceFacts = obj<InterfaceFacts>({
  name: str,
  addresses: list(str),
  mtu: nullable(int),
  speed_mbps: nullable(num),
  numa_node: nullable(int),
  driver: nullable(str),
  rx_bytes: num,
  tx_bytes: num,
});

const ANSWERS: { [M in MethodName]: Check<ResultOf<M>> } = {
  hello,
  start_servers: obj({ servers: list(started) }),
  start_clients: obj({ clients: list(started) }),
  release: obj<ReleaseResult>({ released_at: num, servers: int, clients: int }),
  status: obj<StatusResult>({ pid: int, active: int, instances: list(obj({ id: str, role: oneOf('server', 'client'), state: oneOf('running', 'exited'), pid: int })), health }),
  collect: obj<CollectResult>({ instances: list(instanceRecord) }),
  stop: obj<StopResult>({ killed: int }),
  ping: obj<PingResult>({ time_ms: num }),
  interfaces: obj<InterfacesResult>({ interfaces: list(interfaceFacts), resolved: optional(record(nullable(str))), time_ms: num }),
  preflight: obj<PreflightResult>({ free_ports: int, gc_thresh3: nullable(int), max_startups: nullable(int), listeners: list(obj({ address: str, port: int })) }),
  probe: obj<ProbeResult>({ results: list(obj({ address: str, port: int, ok: bool, ms: num, error: optional(str) })) }),
};

/** The answer to `method`, checked; throws a ShapeError naming the field (`result.cpus[0]`). */
export function checkAnswer<M extends MethodName>(method: M, result: unknown): ResultOf<M> {
  return (ANSWERS[method] as Check<ResultOf<M>>)(result, 'result');
}

export const hostIntervalParams = obj<HostIntervalParams>({
  time_ms: num,
  bits_per_second: num,
  clients: int,
  intervals: optional(list(obj({ id: str, end: num, bits_per_second: num }))),
});
