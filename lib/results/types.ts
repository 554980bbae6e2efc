/** The results document (results.json), as described by schemas/results.schema.json. */
import type { HelloResult } from '../protocol/messages.js';

export const RESULTS_FORMAT = 'meshperf.results/v1';

export interface ErrorInfo {
  /** Stable token: unreachable, auth, host_key_mismatch, host_key_unknown, no_node, no_iperf3, ... */
  code: string;
  message: string;
}

export interface RunParameters {
  duration: number;
  parallel: number;
  /** Resolved number of iperf3 processes per ordered pair. */
  processes: number;
  /** What was asked for: a number or "auto". */
  processes_requested: number | 'auto';
  port_range: [number, number];
  protocol: 'tcp';
  transport: 'ssh' | 'local';
}

export interface HostResult extends Partial<Omit<HelloResult, 'protocol' | 'time_ms'>> {
  name: string;
  address: string;
  status: 'ok' | 'failed';
  error: ErrorInfo | null;
}

export interface Metrics {
  /** Bits per second received by the server: the number that counts. */
  throughput_bps: number | null;
  sent_bps: number | null;
  bytes_sent: number | null;
  bytes_received: number | null;
  retransmits: number | null;
  rtt_min_us: number | null;
  rtt_mean_us: number | null;
  rtt_max_us: number | null;
  cpu_local_percent: number | null;
  cpu_remote_percent: number | null;
}

export interface EndpointResult {
  host: string;
  address: string;
  daemon_pid: number | null;
  pid: number | null;
  cpu: number | null;
  /** Server: the port it listened on. Client: its local (ephemeral) port. */
  port: number | null;
  exit_code: number | null;
  signal: string | null;
  stderr: string;
  iperf3_version: string | null;
  started_at: string | null;
  ended_at: string | null;
}

export interface InstanceResult {
  instance: number;
  status: 'ok' | 'failed';
  error: ErrorInfo | null;
  started_at: string | null;
  ended_at: string | null;
  client: EndpointResult | null;
  server: (EndpointResult & { iperf3: unknown }) | null;
  metrics: Metrics;
  /** The client's iperf3 -J document as iperf3 printed it. */
  iperf3: unknown;
}

export type PairStatus = 'ok' | 'partial' | 'failed' | 'skipped';

export interface PairSummary {
  status: PairStatus;
  error: ErrorInfo | null;
  /** Sum of the instances' received bits per second. */
  throughput_bps: number;
  sent_bps: number;
  retransmits: number;
  instances: number;
  instances_ok: number;
}

export interface PairResult {
  summary: PairSummary;
  instances: InstanceResult[];
}

export interface RunSummary {
  hosts: number;
  hosts_ok: number;
  hosts_failed: number;
  pairs: number;
  pairs_ok: number;
  pairs_partial: number;
  pairs_failed: number;
  pairs_skipped: number;
  instances: number;
  instances_ok: number;
  instances_failed: number;
  /** Sum of every pair's throughput: what the whole mesh carried at once. */
  aggregate_throughput_bps: number;
}

export interface ResultsDocument {
  format: typeof RESULTS_FORMAT;
  run: {
    id: string;
    started_at: string;
    finished_at: string;
    interrupted: boolean;
    parameters: RunParameters;
    hosts: HostResult[];
  };
  summary: RunSummary;
  sources: Record<string, { destinations: Record<string, PairResult> }>;
}
